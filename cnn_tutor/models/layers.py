"""The package's own Keras layers: the sub-pixel (depth-to-space) layer and the quantiser.

Both are ordinary module-level classes registered with
``keras.saving.register_keras_serializable(package="cnn_tutor")``, so a model
that contains them is saved to ``.keras`` and loaded back with
``safe_mode=True`` like any Keras model, and ``isinstance`` works.  They use
``keras.ops`` and ``keras.random`` only, so they run on every backend.

- :class:`DepthToSpace` rearranges ``(h, w, c r^2)`` into ``(h r, w r, c)``
  (ESPCN, :func:`cnn_tutor.models.restoration.build_espcn`);
- :class:`Quantize` rounds to integers, with a straight-through or a noise
  stand-in for the rounding during training (the compression autoencoder,
  :func:`cnn_tutor.models.compression.build_compression_autoencoder`).

Used by the Reconstruction chapter.
"""

import keras

from cnn_tutor import _validation

__all__ = ["QUANTIZERS", "DepthToSpace", "Quantize", "depth_to_space"]

#: How :class:`Quantize` gets around the rounding in training.
QUANTIZERS = ("straight_through", "noise")


def depth_to_space(x, block_size):
    """``(batch, h, w, c r^2)`` -> ``(batch, h r, w r, c)`` with ``keras.ops`` (``tf.nn.depth_to_space``'s order).

    Output pixel ``(r i + a, r j + b)``, channel ``k`` is input pixel
    ``(i, j)``, channel ``(a r + b) c + k``: each group of ``r^2`` maps fills
    one ``r x r`` block, row by row.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(4, dtype="float32").reshape(1, 1, 1, 4)
    >>> np.asarray(depth_to_space(x, 2))[0, ..., 0]
    array([[0., 1.],
           [2., 3.]], dtype=float32)
    """
    ops = keras.ops
    shape = ops.shape(x)
    height, width, depth = shape[1], shape[2], shape[3]
    channels = depth // (block_size * block_size)
    # (b, h, w, a, b', c) -> (b, h, a, w, b', c) -> (b, h r, w r, c)
    blocks = ops.reshape(x, (-1, height, width, block_size, block_size, channels))
    blocks = ops.transpose(blocks, (0, 1, 3, 2, 4, 5))
    return ops.reshape(blocks, (-1, height * block_size, width * block_size, channels))


@keras.saving.register_keras_serializable(package="cnn_tutor")
class DepthToSpace(keras.layers.Layer):
    """The sub-pixel layer of ESPCN: ``(h, w, c r^2)`` -> ``(h r, w r, c)``.

    Shi et al. (2016) let the last convolution of a super-resolution network
    output ``r^2`` maps per channel and rearrange them into an image ``r``
    times larger (:func:`depth_to_space`).  No weights.

    Parameters
    ----------
    block_size : int
        The magnification ``r`` (>= 2).
    **kwargs
        Passed to ``keras.layers.Layer`` (``name``...).

    Examples
    --------
    >>> import numpy as np
    >>> layer = DepthToSpace(3)
    >>> tuple(layer(np.zeros((2, 4, 5, 9), "float32")).shape)
    (2, 12, 15, 1)
    """

    def __init__(self, block_size, **kwargs):
        super().__init__(**kwargs)
        self.block_size = _validation.check_int("block_size", block_size, minimum=2)

    def call(self, inputs):
        """Rearrange the maps (:func:`depth_to_space`)."""
        return depth_to_space(inputs, self.block_size)

    def compute_output_shape(self, input_shape):
        """``(batch, h r, w r, c)`` for input ``(batch, h, w, c r^2)``."""
        batch, height, width, depth = input_shape
        r = self.block_size
        if depth is not None and depth % (r * r):
            raise ValueError(
                f"The input of DepthToSpace({r}) must have a multiple of {r * r} channels; received {depth}."
            )
        return (
            batch,
            None if height is None else height * r,
            None if width is None else width * r,
            None if depth is None else depth // (r * r),
        )

    def get_config(self):
        """The layer's configuration, with ``block_size``."""
        return {**super().get_config(), "block_size": self.block_size}


@keras.saving.register_keras_serializable(package="cnn_tutor")
class Quantize(keras.layers.Layer):
    """Round to integers; in training, a straight-through estimator or additive uniform noise.

    Rounding has a zero gradient almost everywhere, so training replaces it:

    ``"straight_through"``
        round in the forward pass, identity in the backward pass
        (``x + stop_gradient(round(x) - x)``);
    ``"noise"``
        add uniform noise in ``[-0.5, 0.5)`` instead of rounding, the same
        width as the rounding error (Balle et al. 2017).

    Outside training the layer always rounds.

    Parameters
    ----------
    mode : {"straight_through", "noise"}
        The training stand-in.
    seed : int, optional
        Seed of the noise.
    **kwargs
        Passed to ``keras.layers.Layer``.

    Examples
    --------
    >>> import numpy as np
    >>> np.asarray(Quantize("noise")(np.array([[0.2, 0.7, -1.4]], "float32")))
    array([[ 0.,  1., -1.]], dtype=float32)
    """

    def __init__(self, mode="straight_through", seed=None, **kwargs):
        super().__init__(**kwargs)
        self.mode = _validation.check_choice("mode", mode, QUANTIZERS)
        self.seed = seed
        self._generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        """Rounded values; in training the stand-in of ``mode``."""
        ops = keras.ops
        if not training:
            return ops.round(inputs)
        if self.mode == "noise":
            return inputs + keras.random.uniform(ops.shape(inputs), -0.5, 0.5, seed=self._generator)
        return inputs + ops.stop_gradient(ops.round(inputs) - inputs)

    def compute_output_shape(self, input_shape):
        """The input's shape."""
        return input_shape

    def get_config(self):
        """The layer's configuration, with ``mode`` and ``seed``."""
        return {**super().get_config(), "mode": self.mode, "seed": self.seed}
