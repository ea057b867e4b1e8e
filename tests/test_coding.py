"""Tests of cnn_tutor.coding: the rANS coder round-trips exactly and writes what the tables promise."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnn_tutor import coding


def _draw(rng, freqs, rows):
    cdf = np.cumsum(freqs, axis=1) / freqs.sum(axis=1, keepdims=True)
    return np.array([np.searchsorted(cdf[r], u, side="right") for r, u in zip(rows, rng.random(len(rows)))])


def test_quantize_pmf_sums_keeps_every_possible_symbol_and_tracks_the_probabilities():
    pmf = np.array([0.6, 0.3, 0.0999, 1e-4, 0.0])
    freqs = coding.quantize_pmf(pmf, precision=12)
    assert freqs.sum() == 4096
    assert freqs[3] >= 1 and freqs[4] == 0
    np.testing.assert_allclose(freqs[:3] / 4096, pmf[:3], atol=2 / 4096)


def test_quantize_pmf_rows_and_errors():
    freqs = coding.quantize_pmf([[1, 1], [3, 1]], precision=4)
    assert freqs.tolist() == [[8, 8], [12, 4]]
    with pytest.raises(ValueError, match="non-negative"):
        coding.quantize_pmf([0.5, -0.1])
    with pytest.raises(ValueError, match="more than 2\\*\\*precision"):
        coding.quantize_pmf(np.ones(5), precision=2)
    with pytest.raises(ValueError, match="precision"):
        coding.quantize_pmf([1.0], precision=17)


def test_round_trip_of_random_symbols_with_many_tables():
    rng = np.random.default_rng(0)
    freqs = coding.quantize_pmf(rng.dirichlet(np.full(20, 0.3), size=8))
    rows = rng.integers(0, 8, size=5_000)
    symbols = _draw(rng, freqs, rows)
    data = coding.encode(symbols, freqs, rows)
    assert coding.decode(data, freqs, rows).tolist() == symbols.tolist()


def test_code_length_is_the_ideal_length_plus_at_most_the_flushed_state():
    rng = np.random.default_rng(1)
    freqs = coding.quantize_pmf(rng.dirichlet(np.ones(12), size=4))
    rows = rng.integers(0, 4, size=20_000)
    symbols = _draw(rng, freqs, rows)
    ideal = coding.ideal_bits(symbols, freqs, rows) / 8
    length = len(coding.encode(symbols, freqs, rows))
    assert ideal <= length <= math.ceil(ideal) + 5


def test_one_bit_symbols_cost_exactly_one_bit_each():
    freqs = coding.quantize_pmf([0.5, 0.5], precision=8)
    symbols = np.random.default_rng(2).integers(0, 2, size=800)
    assert coding.ideal_bits(symbols, freqs, precision=8) == 800.0
    assert len(coding.encode(symbols, freqs, precision=8)) == 100 + 4  # 100 bytes and the 4-byte state


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0.0, 1.0), min_size=2, max_size=9).filter(lambda p: sum(p) > 0.01),
    st.lists(st.integers(0, 8), min_size=0, max_size=200),
    st.integers(2, 16),
)
def test_round_trip_property(pmf, picks, precision):
    pmf = np.asarray(pmf) + 1e-3  # every symbol possible
    if len(pmf) > 2**precision:
        return
    freqs = coding.quantize_pmf(pmf, precision=precision)
    symbols = np.array([p % len(pmf) for p in picks], dtype=np.int64)
    data = coding.encode(symbols, freqs, precision=precision)
    assert coding.decode(data, freqs, count=len(symbols), precision=precision).tolist() == symbols.tolist()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-100_000, 100_000), min_size=0, max_size=100))
def test_values_of_any_size_round_trip_through_the_escape(values):
    freqs = coding.quantize_pmf([0.2, 0.5, 0.2, 0.1], precision=12)  # -1, 0, 1, escape
    data = coding.encode_values(values, freqs, offsets=[-1], precision=12)
    back = coding.decode_values(data, freqs, offsets=[-1], count=len(values), precision=12)
    assert back.tolist() == list(values)


def test_escape_costs_the_escape_plus_elias_gamma_bits():
    freqs = coding.quantize_pmf([0.5, 0.25, 0.25], precision=4)  # values 0, 1, then the escape
    # value 2 is 1 above the range: escape (2 bits), direction (1), gamma(1) = "1" (1) -> 4 bits
    assert coding.ideal_value_bits([2], freqs, offsets=[0], precision=4) == 4.0
    # value -3 is 3 below: escape, direction, gamma(3) = "011" -> 2 + 1 + 3
    assert coding.ideal_value_bits([-3], freqs, offsets=[0], precision=4) == 6.0


def test_bad_input_is_refused_with_the_argument_named():
    freqs = coding.quantize_pmf([0.5, 0.5, 0.0])
    with pytest.raises(ValueError, match="frequency 0"):
        coding.encode([2], freqs)
    with pytest.raises(TypeError, match="`symbols` must be an integer array"):
        coding.encode([0.5], freqs)
    with pytest.raises(ValueError, match="must sum to 2\\*\\*precision"):
        coding.encode([0], [3, 3])
    with pytest.raises(ValueError, match="`rows` must say which table row"):
        coding.encode([0], np.stack([freqs, freqs]))
    with pytest.raises(TypeError, match="`data` must be bytes"):
        coding.decode("abc", freqs, count=1)


def test_truncated_or_foreign_streams_are_detected():
    rng = np.random.default_rng(3)
    freqs = coding.quantize_pmf([0.7, 0.2, 0.1])
    symbols = rng.choice(3, size=300, p=[0.7, 0.2, 0.1])
    data = coding.encode(symbols, freqs)
    with pytest.raises(ValueError, match="truncated|does not decode"):
        coding.decode(data[:-3], freqs, count=300)
    with pytest.raises(ValueError, match="does not decode cleanly"):
        coding.decode(data + b"\x00", freqs, count=300)
    other = coding.quantize_pmf([0.2, 0.2, 0.6])
    with pytest.raises(ValueError, match="does not decode cleanly|truncated"):
        coding.decode(data, other, count=300)
