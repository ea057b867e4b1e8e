"""The symbol coder: rANS over table rows of integer frequencies, and the code length they promise.

Private: the public names are re-exported by :mod:`cnn_tutor.coding`, which
says how the coder works.  The escape-coded integers are in ``_values``.
"""

import bisect

import numpy as np

from cnn_tutor import _validation


#: Default number of bits of the frequency tables (frequencies sum to ``2**PRECISION``).
PRECISION = 16
_STATE_LOW = 1 << 23  # the state lives in [_STATE_LOW, _STATE_LOW << 8)
_FLUSH_BYTES = 4


def _check_precision(precision):
    precision = _validation.check_int("precision", precision, minimum=1)
    if precision > 16:
        raise ValueError(
            f"`precision` must be <= 16 (the coder's 32-bit state leaves 16 bits for the tables); received {precision}."
        )
    return precision


def quantize_pmf(pmf, *, precision=PRECISION):
    """Integer frequencies that sum to ``2**precision``, as close to ``pmf`` as the grid allows.

    Every entry with a positive probability gets a frequency of at least 1
    (so it can still be coded); entries that are exactly 0 get 0.  The
    rounding error is taken from the largest entries, where it costs the
    fewest bits.

    Parameters
    ----------
    pmf : array_like
        Non-negative probabilities, ``(size,)`` or ``(rows, size)``; each row
        is normalised first, so counts work too.
    precision : int
        Bits of the table, 1 to 16.

    Returns
    -------
    numpy.ndarray
        int64, same shape; each row sums to ``2**precision``.

    Raises
    ------
    ValueError
        If a row is all zero, has a negative or non-finite entry, or has more
        positive entries than ``2**precision``.

    Examples
    --------
    >>> quantize_pmf([0.5, 0.25, 0.25], precision=4)
    array([8, 4, 4])
    >>> quantize_pmf([1.0, 1e-9, 0.0], precision=4)
    array([15,  1,  0])
    >>> quantize_pmf([0.0, 0.0])
    Traceback (most recent call last):
    ...
    ValueError: `pmf` row 0 sums to 0; every row must hold some probability.
    """
    precision = _check_precision(precision)
    array = _validation.as_float_array("pmf", pmf)
    if array.ndim not in (1, 2) or array.shape[-1] == 0:
        raise ValueError(f"`pmf` must be 1-D (size,) or 2-D (rows, size) and not empty; received shape {array.shape}.")
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        raise ValueError("`pmf` must hold finite, non-negative probabilities.")
    rows = np.atleast_2d(array).astype(np.float64)
    total = 1 << precision
    out = np.zeros(rows.shape, dtype=np.int64)
    for index, row in enumerate(rows):
        mass = row.sum()
        if mass <= 0:
            raise ValueError(f"`pmf` row {index} sums to 0; every row must hold some probability.")
        positive = row > 0
        if positive.sum() > total:
            raise ValueError(
                f"`pmf` row {index} has {int(positive.sum())} possible symbols, more than 2**precision = {total}; "
                "raise `precision` or shorten the table."
            )
        freq = np.where(positive, np.maximum(1, np.round(row / mass * total)), 0).astype(np.int64)
        excess = int(freq.sum()) - total
        # Move the rounding error onto the largest frequencies, one unit at a time.
        order = np.argsort(-freq, kind="stable")
        step = 0
        while excess != 0:
            slot = order[step % len(order)]
            if excess > 0 and freq[slot] > 1:
                freq[slot] -= 1
                excess -= 1
            elif excess < 0 and freq[slot] > 0:
                freq[slot] += 1
                excess += 1
            step += 1
        out[index] = freq
    return out[0] if array.ndim == 1 else out


def _check_tables(freqs, precision):
    freqs = np.asarray(freqs)
    if freqs.dtype == bool or not np.issubdtype(freqs.dtype, np.integer):
        raise TypeError(f"`freqs` must be an integer array of frequencies (see quantize_pmf); received dtype {freqs.dtype}.")
    if freqs.ndim == 1:
        freqs = freqs[None]
    if freqs.ndim != 2 or freqs.shape[1] == 0:
        raise ValueError(f"`freqs` must be 2-D (rows, size); received shape {freqs.shape}.")
    if np.any(freqs < 0):
        raise ValueError("`freqs` must be non-negative.")
    sums = freqs.sum(axis=1)
    if np.any(sums != 1 << precision):
        bad = int(np.flatnonzero(sums != 1 << precision)[0])
        raise ValueError(
            f"every row of `freqs` must sum to 2**precision = {1 << precision}; row {bad} sums to {int(sums[bad])}. "
            "Build the tables with quantize_pmf(..., precision=precision)."
        )
    return freqs.astype(np.int64)


def _check_rows(rows, count, num_rows):
    if rows is None:
        if num_rows != 1:
            raise ValueError(f"`rows` must say which table row codes each symbol: `freqs` has {num_rows} rows.")
        return np.zeros(count, dtype=np.int64)
    rows = np.asarray(rows)
    if rows.dtype == bool or not np.issubdtype(rows.dtype, np.integer):
        raise TypeError(f"`rows` must be an integer array; received dtype {rows.dtype}.")
    rows = rows.reshape(-1)
    if rows.size != count:
        raise ValueError(f"`rows` must hold one table row per symbol ({count}); received {rows.size}.")
    if rows.size and (rows.min() < 0 or rows.max() >= num_rows):
        raise ValueError(f"`rows` must lie in [0, {num_rows - 1}]; received values in [{rows.min()}, {rows.max()}].")
    return rows.astype(np.int64)


def _check_symbols(symbols, freqs, rows):
    symbols = np.asarray(symbols)
    if symbols.size == 0:
        return np.zeros(0, dtype=np.int64)
    if symbols.dtype == bool or not np.issubdtype(symbols.dtype, np.integer):
        raise TypeError(f"`symbols` must be an integer array; received dtype {symbols.dtype}.")
    symbols = symbols.reshape(-1).astype(np.int64)
    if symbols.size and (symbols.min() < 0 or symbols.max() >= freqs.shape[1]):
        raise ValueError(
            f"`symbols` must lie in [0, {freqs.shape[1] - 1}] (indices into a table row); "
            f"received values in [{symbols.min()}, {symbols.max()}]."
        )
    return symbols


def ideal_bits(symbols, freqs, rows=None, *, precision=PRECISION):
    """The code length the tables promise: ``-sum_k log2(freqs[rows[k], symbols[k]] / 2**precision)``.

    Parameters
    ----------
    symbols : array_like of int
        Symbol indices, any shape (read in C order).
    freqs : array_like of int
        ``(rows, size)`` (or ``(size,)`` for one table), from :func:`quantize_pmf`.
    rows : array_like of int, optional
        The table row of each symbol; may be left out when there is one row.
    precision : int
        The tables' precision.

    Returns
    -------
    float
        Bits (``inf`` if a symbol has frequency 0).

    Examples
    --------
    >>> ideal_bits([0, 1, 2, 0], [8, 4, 4], precision=4)
    6.0
    """
    precision = _check_precision(precision)
    freqs = _check_tables(freqs, precision)
    symbols = np.asarray(symbols)
    rows = _check_rows(rows, symbols.size, len(freqs))
    symbols = _check_symbols(symbols, freqs, rows)
    chosen = freqs[rows, symbols].astype(np.float64)
    with np.errstate(divide="ignore"):
        return float(-(np.log2(chosen) - precision).sum())


def encode(symbols, freqs, rows=None, *, precision=PRECISION):
    """Encode symbols into bytes with rANS; :func:`decode` reverses it exactly.

    Parameters
    ----------
    symbols : array_like of int
        Symbol indices, any shape (read in C order).  Each must have a
        non-zero frequency in its row.
    freqs : array_like of int
        ``(rows, size)`` frequency tables (or ``(size,)`` for one), each row
        summing to ``2**precision`` (:func:`quantize_pmf`).
    rows : array_like of int, optional
        The table row of each symbol (same number of entries as
        ``symbols``); may be left out when there is one row.
    precision : int
        The tables' precision, 1 to 16.

    Returns
    -------
    bytes
        At most ``ceil(ideal_bits / 8) + 4`` bytes or so: the 4 extra bytes
        flush the coder's final state.

    Raises
    ------
    TypeError, ValueError
        On non-integer input, tables that do not sum to ``2**precision``,
        symbols outside the table, or a symbol whose frequency is 0.

    Examples
    --------
    >>> freqs = quantize_pmf([0.7, 0.2, 0.1], precision=12)
    >>> data = encode([0, 0, 1, 2, 0, 0, 0, 1], freqs, precision=12)
    >>> len(data), decode(data, freqs, count=8, precision=12).tolist()
    (5, [0, 0, 1, 2, 0, 0, 0, 1])
    >>> encode([3], freqs, precision=12)
    Traceback (most recent call last):
    ...
    ValueError: `symbols` must lie in [0, 2] (indices into a table row); received values in [3, 3].
    """
    precision = _check_precision(precision)
    freqs = _check_tables(freqs, precision)
    symbols = np.asarray(symbols)
    rows = _check_rows(rows, symbols.size, len(freqs))
    symbols = _check_symbols(symbols, freqs, rows)
    chosen = freqs[rows, symbols]
    if np.any(chosen == 0):
        where = int(np.flatnonzero(chosen == 0)[0])
        raise ValueError(
            f"`symbols`[{where}] = {int(symbols[where])} has frequency 0 in table row {int(rows[where])}, so it "
            "cannot be coded; give every symbol that may occur a positive probability."
        )
    cumulative = np.concatenate([np.zeros((len(freqs), 1), np.int64), np.cumsum(freqs, axis=1)[:, :-1]], axis=1)
    starts = cumulative[rows, symbols].tolist()
    sizes = chosen.tolist()
    out = bytearray()
    state = _STATE_LOW
    limit_base = (_STATE_LOW >> precision) << 8
    for size, start in zip(reversed(sizes), reversed(starts)):
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


def decode(data, freqs, rows=None, *, count=None, precision=PRECISION):
    """Decode the bytes of :func:`encode` back into the symbol indices.

    Parameters
    ----------
    data : bytes
        What :func:`encode` returned.
    freqs : array_like of int
        The same tables as the encoder's.
    rows : array_like of int, optional
        The same table rows as the encoder's, one per symbol; their number is
        the number of symbols.  Without ``rows`` (one table) give ``count``.
    count : int, optional
        Number of symbols, when ``rows`` is not given.
    precision : int
        The tables' precision.

    Returns
    -------
    numpy.ndarray
        int64 ``(count,)``.

    Raises
    ------
    ValueError
        If the data are too short or do not end where the symbols do (a
        corrupted or truncated stream, or tables different from the
        encoder's).

    Examples
    --------
    >>> freqs = quantize_pmf([[0.5, 0.5, 0.0], [0.1, 0.1, 0.8]], precision=8)
    >>> data = encode([1, 2, 0, 2], freqs, rows=[0, 1, 0, 1], precision=8)
    >>> decode(data, freqs, rows=[0, 1, 0, 1], precision=8).tolist()
    [1, 2, 0, 2]
    >>> decode(data[:2], freqs, rows=[0, 1, 0, 1], precision=8)
    Traceback (most recent call last):
    ...
    ValueError: `data` is too short: a stream holds at least 4 bytes; received 2.
    """
    precision = _check_precision(precision)
    freqs = _check_tables(freqs, precision)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"`data` must be bytes (what encode returned); received {type(data).__name__}.")
    data = bytes(data)
    if rows is None:
        if count is None:
            raise ValueError("Give `rows` (one table row per symbol) or, for a single table, `count`.")
        count = _validation.check_int("count", count, minimum=0)
    elif count is not None:
        raise ValueError("Give either `rows` or `count`, not both: the number of rows is the number of symbols.")
    else:
        count = np.asarray(rows).size
    rows = _check_rows(rows, count, len(freqs))
    if len(data) < _FLUSH_BYTES:
        raise ValueError(f"`data` is too short: a stream holds at least {_FLUSH_BYTES} bytes; received {len(data)}.")
    mask = (1 << precision) - 1
    cumulative = np.concatenate([np.zeros((len(freqs), 1), np.int64), np.cumsum(freqs, axis=1)], axis=1)
    bounds = [row.tolist() for row in cumulative]  # bounds[r][s] <= slot < bounds[r][s + 1]
    state = int.from_bytes(data[:_FLUSH_BYTES], "big")
    position = _FLUSH_BYTES
    size = len(data)
    out = np.empty(count, dtype=np.int64)
    for index, row in enumerate(rows.tolist()):
        table = bounds[row]
        slot = state & mask
        symbol = bisect.bisect_right(table, slot) - 1
        start = table[symbol]
        state = (table[symbol + 1] - start) * (state >> precision) + slot - start
        while state < _STATE_LOW:
            if position >= size:
                raise ValueError("`data` ended before all symbols were decoded: the stream is truncated or corrupted.")
            state = (state << 8) | data[position]
            position += 1
        out[index] = symbol
    if position != size or state != _STATE_LOW:
        raise ValueError(
            "`data` does not decode cleanly with these tables (bytes left over or a wrong final state): "
            "the stream is corrupted, or the tables or rows differ from the encoder's."
        )
    return out
