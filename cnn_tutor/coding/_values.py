"""Integers of any size: in-range values by their table column, the others by an escape and Elias-gamma bits.

Private: the public names are re-exported by :mod:`cnn_tutor.coding`.
"""

import bisect

import numpy as np

from cnn_tutor import _validation
from cnn_tutor.coding._rans import PRECISION, _FLUSH_BYTES, _STATE_LOW, _check_precision, _check_rows, _check_tables
from cnn_tutor.coding._rans import quantize_pmf  # for the Examples


def _check_offsets(offsets, num_rows):
    offsets = np.asarray(offsets)
    if offsets.dtype == bool or not np.issubdtype(offsets.dtype, np.integer):
        raise TypeError(f"`offsets` must be an integer array (the value of column 0 of each row); received dtype {offsets.dtype}.")
    offsets = offsets.reshape(-1).astype(np.int64)
    if offsets.size != num_rows:
        raise ValueError(f"`offsets` must hold one value per table row ({num_rows}); received {offsets.size}.")
    return offsets


def _escape_columns(freqs):
    """Index of each row's escape column: its last column with a positive frequency."""
    positive = freqs > 0
    if np.any(positive.sum(axis=1) < 2):
        raise ValueError("every row of `freqs` needs at least two positive columns: one value and the escape.")
    return freqs.shape[1] - 1 - np.argmax(positive[:, ::-1], axis=1)


def _value_operations(values, freqs, offsets, rows, precision):
    """The coder's (start, size) operations for integer values, escapes and bypass bits included, in order."""
    escape = _escape_columns(freqs)
    cumulative = np.concatenate([np.zeros((len(freqs), 1), np.int64), np.cumsum(freqs, axis=1)[:, :-1]], axis=1)
    half = 1 << (precision - 1)
    columns = values - offsets[rows]
    inside = (columns >= 0) & (columns < escape[rows])
    ops_ = []
    freq_rows = freqs.tolist()
    cum_rows = cumulative.tolist()
    for value, column, row, ok in zip(values.tolist(), columns.tolist(), rows.tolist(), inside.tolist()):
        if ok:
            size = freq_rows[row][column]
            if size == 0:
                raise ValueError(
                    f"the value {value} has frequency 0 in table row {row}; give every value in a row's range "
                    "a positive frequency."
                )
            ops_.append((cum_rows[row][column], size))
            continue
        column = int(escape[row])
        ops_.append((cum_rows[row][column], freq_rows[row][column]))
        above = column <= value - offsets[row]
        distance = value - (offsets[row] + column - 1) if above else offsets[row] - value  # >= 1
        bits = [int(above)] + [0] * (int(distance).bit_length() - 1) + [int(b) for b in bin(int(distance))[2:]]
        ops_.extend((bit * half, half) for bit in bits)
    return ops_


def _encode_operations(operations, precision):
    out = bytearray()
    state = _STATE_LOW
    limit_base = (_STATE_LOW >> precision) << 8
    for start, size in reversed(operations):
        limit = limit_base * size
        while state >= limit:
            out.append(state & 0xFF)
            state >>= 8
        state = ((state // size) << precision) + (state % size) + start
    for _ in range(_FLUSH_BYTES):
        out.append(state & 0xFF)
        state >>= 8
    out.reverse()
    return bytes(out)


def _check_values(values):
    values = np.asarray(values)
    if values.size == 0:
        return np.zeros(0, dtype=np.int64)
    if values.dtype == bool or not np.issubdtype(values.dtype, np.integer):
        raise TypeError(f"`values` must be an integer array; received dtype {values.dtype}.")
    return values.reshape(-1).astype(np.int64)


def encode_values(values, freqs, offsets, rows=None, *, precision=PRECISION):
    """Encode integers of any size: in-range values by their table column, others by escape + Elias-gamma.

    Row ``r`` of ``freqs`` stands for the values ``offsets[r]``,
    ``offsets[r] + 1``, ... up to its last positive column, which is the
    **escape**.  A value below ``offsets[r]`` or at or above the escape's
    value is coded as the escape, then one bypass bit (above or below), then
    its distance from the range (``>= 1``) in Elias-gamma code
    (``2 floor(log2 d) + 1`` bypass bits).

    Parameters
    ----------
    values : array_like of int
        The integers, any shape (read in C order).
    freqs : array_like of int
        ``(rows, size)`` tables from :func:`quantize_pmf`, each with a
        positive escape column last.
    offsets : array_like of int
        ``(rows,)``: the value of column 0 of each row.
    rows : array_like of int, optional
        The table row of each value (may be left out for one row).
    precision : int
        The tables' precision.

    Returns
    -------
    bytes

    Examples
    --------
    >>> freqs = quantize_pmf([0.25, 0.5, 0.25 - 1e-3, 1e-3], precision=12)   # values -1, 0, 1, escape
    >>> data = encode_values([0, 1, -1, 0, 9, -40], freqs, offsets=[-1], precision=12)
    >>> decode_values(data, freqs, offsets=[-1], count=6, precision=12).tolist()
    [0, 1, -1, 0, 9, -40]
    """
    precision = _check_precision(precision)
    if precision < 2:
        raise ValueError(f"`precision` must be >= 2 for bypass bits; received {precision}.")
    freqs = _check_tables(freqs, precision)
    offsets = _check_offsets(offsets, len(freqs))
    values = _check_values(values)
    rows = _check_rows(rows, values.size, len(freqs))
    return _encode_operations(_value_operations(values, freqs, offsets, rows, precision), precision)


def ideal_value_bits(values, freqs, offsets, rows=None, *, precision=PRECISION):
    """The code length :func:`encode_values` aims at: table bits of each value (or escape) plus its bypass bits.

    Examples
    --------
    >>> freqs = quantize_pmf([0.5, 0.25, 0.25], precision=4)   # values 0 and 1, then the escape
    >>> ideal_value_bits([0, 1, 5], freqs, offsets=[0], precision=4)   # 1 + 2 + (2 + 1 + 5)
    11.0
    """
    precision = _check_precision(precision)
    freqs = _check_tables(freqs, precision)
    offsets = _check_offsets(offsets, len(freqs))
    values = _check_values(values)
    rows = _check_rows(rows, values.size, len(freqs))
    operations = _value_operations(values, freqs, offsets, rows, precision)
    sizes = np.array([size for _, size in operations], dtype=np.float64)
    return float(-(np.log2(sizes) - precision).sum())


def decode_values(data, freqs, offsets, rows=None, *, count=None, precision=PRECISION):
    """Decode the bytes of :func:`encode_values` back into the integers.

    Parameters are those of :func:`encode_values` (with ``count`` instead of
    ``rows`` for a single table, as in :func:`decode`).

    Returns
    -------
    numpy.ndarray
        int64 ``(count,)``.

    Raises
    ------
    ValueError
        If the stream is truncated or corrupted, or the tables differ from the encoder's.
    """
    precision = _check_precision(precision)
    freqs = _check_tables(freqs, precision)
    offsets = _check_offsets(offsets, len(freqs))
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"`data` must be bytes (what encode_values returned); received {type(data).__name__}.")
    data = bytes(data)
    if rows is None:
        if count is None:
            raise ValueError("Give `rows` (one table row per value) or, for a single table, `count`.")
        count = _validation.check_int("count", count, minimum=0)
    elif count is not None:
        raise ValueError("Give either `rows` or `count`, not both: the number of rows is the number of values.")
    else:
        count = np.asarray(rows).size
    rows = _check_rows(rows, count, len(freqs))
    if len(data) < _FLUSH_BYTES:
        raise ValueError(f"`data` is too short: a stream holds at least {_FLUSH_BYTES} bytes; received {len(data)}.")
    escape = _escape_columns(freqs).tolist()
    offsets_list = offsets.tolist()
    mask = (1 << precision) - 1
    half_shift = precision - 1
    bounds = [row.tolist() for row in np.concatenate([np.zeros((len(freqs), 1), np.int64), np.cumsum(freqs, axis=1)], axis=1)]
    state = int.from_bytes(data[:_FLUSH_BYTES], "big")
    position, size = _FLUSH_BYTES, len(data)

    def renormalise(state, position):
        while state < _STATE_LOW:
            if position >= size:
                raise ValueError("`data` ended before all values were decoded: the stream is truncated or corrupted.")
            state = (state << 8) | data[position]
            position += 1
        return state, position

    def bypass(state, position):
        slot = state & mask
        bit = slot >> half_shift
        state = (1 << half_shift) * (state >> precision) + slot - (bit << half_shift)
        state, position = renormalise(state, position)
        return bit, state, position

    out = np.empty(count, dtype=np.int64)
    for index, row in enumerate(rows.tolist()):
        table = bounds[row]
        slot = state & mask
        column = bisect.bisect_right(table, slot) - 1
        start = table[column]
        state = (table[column + 1] - start) * (state >> precision) + slot - start
        state, position = renormalise(state, position)
        if column != escape[row]:
            out[index] = offsets_list[row] + column
            continue
        above, state, position = bypass(state, position)
        zeros = 0
        while True:
            bit, state, position = bypass(state, position)
            if bit:
                break
            zeros += 1
            if zeros > 62:
                raise ValueError("`data` holds an escape code that is too long: the stream is corrupted.")
        distance = 1
        for _ in range(zeros):
            bit, state, position = bypass(state, position)
            distance = (distance << 1) | bit
        last = offsets_list[row] + escape[row] - 1
        out[index] = last + distance if above else offsets_list[row] - distance
    if position != size or state != _STATE_LOW:
        raise ValueError(
            "`data` does not decode cleanly with these tables (bytes left over or a wrong final state): "
            "the stream is corrupted, or the tables or rows differ from the encoder's."
        )
    return out
