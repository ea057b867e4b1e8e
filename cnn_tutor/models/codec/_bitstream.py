"""The codec's bitstream: integer tables, and images written to bytes and read back.

Private: the public names are re-exported by :mod:`cnn_tutor.models.codec`.
"""

import typing

import numpy as np
from keras import ops

from cnn_tutor import _validation, coding
from cnn_tutor.models import entropy as entropy_models
from cnn_tutor.models.codec._network import _HYPER_FACTOR, _block_size, build_codec  # build_codec: for the Examples

#: Bytes of header in each file of :func:`compress`: height and width (2 bytes each), the model index (1 byte)
#: and the length of the side information's stream (3 bytes).
HEADER_BYTES = 8


class CodecTables(typing.NamedTuple):
    """The coding tables of a codec (:func:`codec_tables`), shared by encoder and decoder."""

    #: One row per channel of ``z`` (:func:`cnn_tutor.models.entropy.factorized_tables`).
    side: entropy_models.CodingTables
    #: One row per scale of :data:`cnn_tutor.models.entropy.SCALE_TABLE` (:func:`~cnn_tutor.models.entropy.gaussian_tables`).
    latent: entropy_models.CodingTables


def codec_tables(model, *, precision=coding.PRECISION):
    """Integer tables of a trained codec's two entropy models.

    Examples
    --------
    >>> codec = build_codec(block_size=4, kernel_size=8, num_filters=4, hyper_filters=4, hyper_channels=3, seed=0)
    >>> tables = codec_tables(codec)
    >>> tables.side.freqs.shape[0], tables.latent.freqs.shape[0]
    (3, 64)
    """
    side = entropy_models.factorized_tables(model.get_layer("side_entropy"), precision=precision)
    distribution = model.get_layer("latent_entropy").distribution
    return CodecTables(side=side, latent=entropy_models.gaussian_tables(distribution=distribution, precision=precision))


def _pad(image, multiple):
    height, width = image.shape[:2]
    return np.pad(image, ((0, (-height) % multiple), (0, (-width) % multiple), (0, 0)), mode="edge")


def _means_and_rows(model, z_hat):
    parameters = model.get_layer("hyper_synthesis")(z_hat[None].astype("float32"), training=False)
    means, scales = entropy_models.GaussianConditional.split(parameters)
    means, scales = ops.convert_to_numpy(means)[0], ops.convert_to_numpy(scales)[0]
    return means, entropy_models.scale_indices(scales)


def _encode_image(model, tables, image):
    """The integers a file holds: ``z`` (with its table rows) and the residuals of ``y`` (with theirs)."""
    padded = _pad(image, _HYPER_FACTOR * _block_size(model))[None]
    y = ops.convert_to_numpy(model.get_layer("analysis")(padded, training=False))[0]
    z_hat = np.round(ops.convert_to_numpy(model.get_layer("hyper_analysis")(y[None], training=False))[0])
    z_rows = np.broadcast_to(np.arange(z_hat.shape[-1]), z_hat.shape).reshape(-1)
    means, y_rows = _means_and_rows(model, z_hat)
    residuals = np.round(y - means).astype(np.int64).reshape(-1)
    return z_hat.astype(np.int64).reshape(-1), z_rows, residuals, y_rows.reshape(-1)


def compress(model, images, *, tables=None, model_index=0):
    """Encode each image into a real byte string.

    The file is an 8-byte header (height, width, ``model_index``, the length
    of the side-information stream), the side information ``z`` coded under
    the factorised model, and the latents ``y`` coded under the Gaussians
    that ``h_s(z_hat)`` predicts (their residuals ``round(y - mu)``, each
    with the table of its scale).

    Parameters
    ----------
    model : keras.Model
        A trained codec (:func:`build_codec`).
    images : array_like
        ``(batch, height, width, 1)`` in [0, 1]; any size up to 65535 pixels
        a side (padded by repeating the edge; the decoder crops).
    tables : CodecTables, optional
        From :func:`codec_tables` (computed when not given).
    model_index : int
        A byte stored in the header to say which codec (of a rate sweep)
        wrote the file.

    Returns
    -------
    list of bytes
        One file per image; ``len(file)`` is what it costs.

    Examples
    --------
    >>> codec = build_codec(block_size=4, kernel_size=8, num_filters=4, hyper_filters=4, seed=0)
    >>> files = compress(codec, np.full((1, 6, 10, 1), 0.5, "float32"), model_index=3)
    >>> files[0][:5].hex()
    '0006000a03'
    >>> decompress(codec, files[0]).shape
    (6, 10, 1)
    """
    images = _validation.check_images("images", images, channels=1)
    model_index = _validation.check_int("model_index", model_index, minimum=0)
    if model_index > 255:
        raise ValueError(f"`model_index` must fit in one byte (0-255); received {model_index}.")
    if max(images.shape[1:3]) > 65535:
        raise ValueError(f"`images` must be at most 65535 pixels a side; received shape {images.shape}.")
    tables = codec_tables(model) if tables is None else tables
    files = []
    for image in images:
        z_values, z_rows, residuals, y_rows = _encode_image(model, tables, image)
        side = coding.encode_values(z_values, tables.side.freqs, tables.side.offsets, z_rows,
                                    precision=tables.side.precision)
        main = coding.encode_values(residuals, tables.latent.freqs, tables.latent.offsets, y_rows,
                                    precision=tables.latent.precision)
        if len(side) >= 1 << 24:
            raise ValueError("the side information of this image exceeds 16 MiB; the image is too large.")
        header = b"".join(
            [image.shape[0].to_bytes(2, "big"), image.shape[1].to_bytes(2, "big"), bytes([model_index]),
             len(side).to_bytes(3, "big")]
        )
        files.append(header + side + main)
    return files


def _read_header(data):
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"`data` must be bytes (one file from compress); received {type(data).__name__}.")
    if len(data) < HEADER_BYTES:
        raise ValueError(f"`data` must start with an {HEADER_BYTES}-byte header; received {len(data)} bytes.")
    height, width = int.from_bytes(data[0:2], "big"), int.from_bytes(data[2:4], "big")
    side_length = int.from_bytes(data[5:8], "big")
    if HEADER_BYTES + side_length > len(data):
        raise ValueError("`data` is truncated: it is shorter than its header says.")
    return height, width, data[4], side_length


def decompress(model, data, *, tables=None):
    """Decode one file of :func:`compress` into an image ``(height, width, 1)``, 8-bit values in [0, 1].

    The latents are decoded exactly as the encoder quantised them (the coder
    is lossless); the synthesis transform maps them to pixels, which are
    clipped to [0, 1] and rounded to 8 bits, as an image file stores them.

    Raises
    ------
    TypeError, ValueError
        If ``data`` is not bytes, is shorter than its header says, or does
        not decode with these tables.
    """
    height, width, _, side_length = _read_header(data)
    tables = codec_tables(model) if tables is None else tables
    multiple = _HYPER_FACTOR * _block_size(model)
    block = _block_size(model)
    padded_h, padded_w = -(-height // multiple) * multiple, -(-width // multiple) * multiple
    channels = model.get_layer("synthesis").inputs[0].shape[-1]
    z_channels = model.get_layer("side_entropy").channels
    z_shape = (padded_h // multiple, padded_w // multiple, z_channels)
    z_rows = np.broadcast_to(np.arange(z_channels), z_shape).reshape(-1)
    side = bytes(data[HEADER_BYTES : HEADER_BYTES + side_length])
    z_values = coding.decode_values(side, tables.side.freqs, tables.side.offsets, z_rows,
                                    precision=tables.side.precision)
    z_hat = z_values.reshape(z_shape).astype("float32")
    means, y_rows = _means_and_rows(model, z_hat)
    y_shape = (padded_h // block, padded_w // block, channels)
    y_rows = y_rows.reshape(-1)
    main = bytes(data[HEADER_BYTES + side_length :])
    residuals = coding.decode_values(main, tables.latent.freqs, tables.latent.offsets, y_rows,
                                     precision=tables.latent.precision)
    y_hat = (means + residuals.reshape(y_shape)).astype("float32")
    image = ops.convert_to_numpy(model.get_layer("synthesis")(y_hat[None], training=False))[0]
    return (np.round(np.clip(image[:height, :width], 0.0, 1.0) * 255.0) / 255.0).astype(np.float32)


def estimate_bits(model, images, *, tables=None):
    """Per image: the code length the models promise, in bits, before any byte is written.

    Returns
    -------
    numpy.ndarray
        float64 ``(batch, 2)``: column 0 is ``-sum log2 p`` of ``z`` and ``y``
        under the entropy models at test time (the quantity training
        minimises, with rounding instead of noise); column 1 the ideal
        length under the integer tables (:func:`cnn_tutor.coding.ideal_bits`,
        with the scales rounded to the table's), which the coder's output
        exceeds by a few bytes.
    """
    images = _validation.check_images("images", images, channels=1)
    tables = codec_tables(model) if tables is None else tables
    multiple = _HYPER_FACTOR * _block_size(model)
    out = np.empty((len(images), 2))
    for index, image in enumerate(images):
        padded = _pad(image, multiple)[None]
        result = model(padded, training=False)
        pixels = padded.shape[1] * padded.shape[2]
        out[index, 0] = float(ops.convert_to_numpy(result["rate"])[0]) * pixels
        z_values, z_rows, residuals, y_rows = _encode_image(model, tables, image)
        out[index, 1] = coding.ideal_value_bits(
            z_values, tables.side.freqs, tables.side.offsets, z_rows, precision=tables.side.precision
        ) + coding.ideal_value_bits(
            residuals, tables.latent.freqs, tables.latent.offsets, y_rows, precision=tables.latent.precision
        )
    return out
