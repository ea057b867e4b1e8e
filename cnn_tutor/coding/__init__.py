"""Entropy coding: turn symbols and their probabilities into real bytes, and back.

A learned codec ends with integer symbols (the rounded latents) and a
probability for each of them.  The ideal code length of a message is
``-sum log2 p(s_k)`` bits (Shannon); an arithmetic coder comes within a few
bytes of it.  This module implements one, **range asymmetric numeral systems**
(rANS, Duda 2013, in the byte-wise form of Giesen's ``rans_byte``), in plain
Python integers, so every line of it can be read:

- :func:`quantize_pmf` turns probabilities into integer frequencies that sum
  to ``2**precision`` (every symbol that may occur keeps a frequency >= 1);
- :func:`encode` writes a byte string; each symbol has its own table row
  (one per latent channel in :mod:`cnn_tutor.models.codec`);
- :func:`decode` reads it back exactly;
- :func:`ideal_bits` is the code length the tables promise, ``-sum log2(f / 2**precision)``;
  :func:`encode`'s output is that plus at most a few bytes (the final state);
- :func:`encode_values` and :func:`decode_values` code *integers* of any
  size: each table row covers a range of values plus an **escape** column,
  and a value outside the range is sent as the escape followed by its
  distance in Elias-gamma code, one "bypass" bit per coded bit (a symbol of
  probability 1/2).  A probability model never has to be right about the
  tails for the coding to be lossless; it only pays for being wrong.

The coder keeps a 32-bit state ``x`` in ``[2**23, 2**31)``.  Coding a symbol
with frequency ``f`` and cumulative frequency ``c`` maps
``x -> (x // f) * 2**precision + c + x % f``, which grows ``x`` by about
``log2(2**precision / f)`` bits; whole bytes leave the state whenever it would
overflow.  rANS is last-in first-out, so the encoder runs over the symbols
backwards and the decoder forwards.

The symbol coder is in ``_rans`` and the escape-coded integers in
``_values``; every public name is imported from here.

Used by the Photographs chapter (the learned codec).
"""

from cnn_tutor.coding._rans import PRECISION, decode, encode, ideal_bits, quantize_pmf
from cnn_tutor.coding._values import decode_values, encode_values, ideal_value_bits

__all__ = ["PRECISION", "decode", "decode_values", "encode", "encode_values", "ideal_bits", "ideal_value_bits", "quantize_pmf"]
