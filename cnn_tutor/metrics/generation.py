"""Scores of generated images, computed with a trained classifier.

- :func:`classifier_score`: the Inception-style score (Salimans et al. 2016)
  ``exp(E_x KL(p(y|x) || p(y)))`` from the class probabilities of a
  classifier; 1 when every image gets the same prediction, at most the number
  of classes (10 for digits) when each image is classified with certainty and
  the classes are balanced.
- :func:`frechet_distance`: the Frechet distance between two Gaussians fitted
  to features (Heusel et al. 2017), ``|mu_a - mu_b|^2 + tr(S_a + S_b - 2
  (S_a S_b)^(1/2))``; :func:`classifier_features` takes the features from the
  classifier's penultimate layer, so "FID" here uses the book's own MNIST
  classifier instead of Inception.
- :func:`generation_scores` does both for a batch of images against real ones.
- :func:`kernel_distance`: the kernel distance (KID, Binkowski et al. 2018),
  an unbiased squared maximum mean discrepancy with a cubic polynomial kernel
  on the same features;
- the three scores with intervals over the samples are in
  :mod:`cnn_tutor.metrics.generation_intervals`, and the check for a generator
  that copies its training data in :mod:`cnn_tutor.metrics.memorisation`.

Used by the Generation and Generation by denoising chapters.
"""

import typing

import numpy as np

from cnn_tutor import _validation

__all__ = [
    "GenerationScores",
    "classifier_features",
    "classifier_score",
    "frechet_distance",
    "generation_scores",
    "kernel_distance",
]


def _check_probabilities(probabilities):
    array = _validation.as_float_array("probabilities", probabilities).astype(np.float64)
    if array.ndim != 2:
        raise ValueError(
            "`probabilities` must be 2-D (images, classes), e.g. the output of a softmax classifier; "
            f"received shape {array.shape}."
        )
    if array.shape[0] < 1 or array.shape[1] < 2:
        raise ValueError(f"`probabilities` needs at least 1 image and 2 classes; received shape {array.shape}.")
    if not np.all(np.isfinite(array)) or array.min() < 0 or array.max() > 1:
        raise ValueError(
            "`probabilities` must hold values in [0, 1]; received values in "
            f"[{np.nanmin(array):.4g}, {np.nanmax(array):.4g}]. Pass softmax outputs, not logits."
        )
    sums = array.sum(axis=1)
    if not np.allclose(sums, 1.0, atol=1e-3):
        raise ValueError(
            f"Each row of `probabilities` must sum to 1; received sums in [{sums.min():.4g}, {sums.max():.4g}]. "
            "Pass softmax outputs."
        )
    return array / sums[:, None]


def classifier_score(probabilities, *, eps=1e-12):
    """The Inception-style score of class probabilities: ``exp(mean_x KL(p(y|x) || p(y)))``.

    ``p(y)`` is the mean of the rows (the marginal over the images).  The
    score is high when each image is classified confidently (low entropy of
    ``p(y|x)``) *and* the classes are varied (high entropy of ``p(y)``).

    Parameters
    ----------
    probabilities : array_like
        ``(images, classes)`` class probabilities, rows summing to 1.
    eps : float
        Added inside the logarithms to avoid ``log(0)``.

    Returns
    -------
    float
        Between 1 and the number of classes.

    Raises
    ------
    ValueError
        If ``probabilities`` is not 2-D, holds values outside [0, 1], or its
        rows do not sum to 1.

    Examples
    --------
    >>> round(classifier_score(np.full((4, 10), 0.1)), 6)
    1.0
    >>> round(classifier_score(np.eye(10)), 6)
    10.0
    """
    p_yx = _check_probabilities(probabilities)
    eps = _validation.check_float("eps", eps, minimum=0.0)
    p_y = p_yx.mean(axis=0, keepdims=True)
    kl = (p_yx * (np.log(p_yx + eps) - np.log(p_y + eps))).sum(axis=1)
    return float(np.exp(kl.mean()))


def _check_features(name, features):
    array = _validation.as_float_array(name, features).astype(np.float64)
    if array.ndim != 2:
        raise ValueError(f"`{name}` must be 2-D (samples, features); received shape {array.shape}.")
    if array.shape[0] < 2:
        raise ValueError(
            f"`{name}` needs at least 2 samples to estimate a covariance; received {array.shape[0]}. "
            "Use hundreds of samples for a stable estimate."
        )
    if not np.all(np.isfinite(array)):
        raise ValueError(f"`{name}` contains NaN or infinite values.")
    return array


def _check_feature_pair(features_a, features_b):
    """``features_a`` and ``features_b`` as checked ``(n, d)`` arrays with the same ``d``."""
    a = _check_features("features_a", features_a)
    b = _check_features("features_b", features_b)
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"`features_a` and `features_b` must have the same number of features; received {a.shape[1]} and {b.shape[1]}."
        )
    return a, b


def frechet_distance(features_a, features_b, *, ridge=1e-6):
    """Frechet distance between Gaussians fitted to two sets of feature vectors.

    ``d^2 = |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))``, with the
    matrix square root from ``scipy.linalg.sqrtm``.  ``ridge`` times the
    identity is added to both covariances: ReLU features have dead units
    (always 0), whose zero variance makes the covariances singular and the
    square root unstable; the ridge moves the result by about
    ``ridge * features``, far below the differences that matter.

    Parameters
    ----------
    features_a, features_b : array_like
        ``(samples, features)`` arrays with the same number of features.
    ridge : float
        Added to the covariances' diagonals.

    Returns
    -------
    float
        The squared Frechet distance ``d^2`` (as reported for FID), >= 0.

    Raises
    ------
    ValueError
        If an input is not 2-D, has fewer than 2 samples, or the feature
        counts differ.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a = rng.standard_normal((2000, 2))
    >>> round(frechet_distance(a, a), 6)
    0.0
    >>> round(frechet_distance(a, a + [3.0, 4.0]), 6)  # a shift by (3, 4): |mu_a - mu_b|^2 = 25
    25.0
    """
    import scipy.linalg

    a, b = _check_feature_pair(features_a, features_b)
    ridge = _validation.check_float("ridge", ridge, minimum=0.0)
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    eye = np.eye(a.shape[1])
    cov_a = np.atleast_2d(np.cov(a, rowvar=False)) + ridge * eye
    cov_b = np.atleast_2d(np.cov(b, rowvar=False)) + ridge * eye
    root = scipy.linalg.sqrtm(cov_a @ cov_b)
    root = np.real(root)  # rounding leaves tiny imaginary parts
    distance = float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2.0 * np.trace(root))
    return max(distance, 0.0)


def _check_model(model):
    """Raise ``TypeError`` unless ``model`` looks like a functional Keras classifier."""
    return _validation.check_model(model)


def _feature_model(model, layer):
    import keras

    if layer is not None and not isinstance(layer, str):
        raise TypeError(f"`layer` must be the name of a layer of the model, or None; received {layer!r}.")

    if layer is None:
        dense = [lay for lay in model.layers if isinstance(lay, keras.layers.Dense)]
        if len(dense) < 2:
            raise ValueError(
                f"Model {model.name!r} needs a hidden Dense layer before its output to give penultimate-layer "
                "features; name one with `layer=`."
            )
        target = dense[-2]
    else:
        target = model.get_layer(layer)
    return keras.Model(model.input, target.output)


def classifier_features(model, images, *, layer=None, batch_size=500):
    """The classifier's penultimate-layer activations for ``images`` (in [0, 1]).

    Parameters
    ----------
    model : keras.Model
        A functional classifier (for example the trained
        :func:`cnn_tutor.models.classifier.build_classifier`).
    images : array_like
        ``(n, height, width, channels)`` in [0, 1].
    layer : str, optional
        The layer whose output to use; default: the last hidden ``Dense``.
    batch_size : int
        Images per forward pass.

    Returns
    -------
    numpy.ndarray
        float64 ``(n, features)``.
    """
    _check_model(model)
    images = _check_generated("images", images, model)
    batch_size = _validation.check_int("batch_size", batch_size, minimum=1)
    probe = _feature_model(model, layer)
    return np.asarray(probe.predict(images, batch_size=batch_size, verbose=0), dtype=np.float64)


def _check_generated(name, images, model):
    return _validation.check_model_input(model, images, name)


class GenerationScores(typing.NamedTuple):
    """What :func:`generation_scores` returns."""

    #: :func:`classifier_score` of the images (<= number of classes).
    score: float
    #: :func:`frechet_distance` between their features and the real images'.
    frechet: float
    #: The predicted class of each image (for a class histogram).
    predicted: np.ndarray


def generation_scores(model, images, real_images, *, ridge=1e-6, batch_size=500):
    """Classifier score and Frechet distance of ``images`` against ``real_images``, in one pass.

    Parameters
    ----------
    model : keras.Model
        The trained classifier that judges the images.
    images : array_like
        Generated (or real held-out) images ``(n, height, width, channels)``
        in [0, 1]; ``n >= 2``.
    real_images : array_like
        Reference real images in [0, 1], ideally ones the generators never saw.
    ridge : float
        See :func:`frechet_distance`.
    batch_size : int
        Images per forward pass.

    Returns
    -------
    GenerationScores

    Raises
    ------
    ValueError
        If an image batch has the wrong shape, values outside [0, 1], or fewer
        than 2 images.
    """
    import keras

    _check_model(model)
    images = _check_generated("images", images, model)
    real_images = _check_generated("real_images", real_images, model)
    batch_size = _validation.check_int("batch_size", batch_size, minimum=1)
    ridge = _validation.check_float("ridge", ridge, minimum=0.0)
    for name, batch in (("images", images), ("real_images", real_images)):
        if len(batch) < 2:
            raise ValueError(f"`{name}` needs at least 2 images to estimate a covariance; received {len(batch)}.")
    probe = _feature_model(model, None)
    both = keras.Model(model.input, [probe.output, model.output])
    features, probabilities = both.predict(images, batch_size=batch_size, verbose=0)
    real_features = probe.predict(real_images, batch_size=batch_size, verbose=0)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    return GenerationScores(
        score=classifier_score(probabilities),
        frechet=frechet_distance(features, real_features, ridge=ridge),
        predicted=probabilities.argmax(axis=1),
    )


def _polynomial_kernel(a, b, degree, coef0):
    return (a @ b.T / a.shape[1] + coef0) ** degree


def _kernel_distance_from_matrices(k_aa, k_bb, k_ab, counts_a=None, counts_b=None):
    """Unbiased MMD^2 from kernel matrices; ``counts`` weight each sample (a bootstrap resample).

    With counts ``c``, the within-set sum runs over pairs of *different*
    original samples: ``(c^T K c - sum_i c_i^2 K_ii) / ((sum c)^2 - sum c_i^2)``,
    which is the usual ``1 / (m (m - 1)) sum_{i != j}`` when every count is 1.
    """
    def within(k, c):
        if c is None:
            m = k.shape[0]
            return (k.sum() - np.trace(k)) / (m * (m - 1))
        quad = np.einsum("ri,ij,rj->r", c, k, c, optimize=True)
        diag = (c**2) @ np.diag(k)
        return (quad - diag) / (c.sum(axis=1) ** 2 - (c**2).sum(axis=1))

    if counts_a is None:
        cross = k_ab.mean()
    else:
        cross = np.einsum("ri,ij,rj->r", counts_a, k_ab, counts_b, optimize=True) / (
            counts_a.sum(axis=1) * counts_b.sum(axis=1)
        )
    return within(k_aa, counts_a) + within(k_bb, counts_b) - 2.0 * cross


def kernel_distance(features_a, features_b, *, degree=3, coef0=1.0):
    """Kernel distance (KID, Binkowski et al. 2018): the unbiased squared MMD with a polynomial kernel.

    ``k(x, y) = (x . y / d + coef0) ** degree`` on ``d``-dimensional
    features, and

    ``MMD^2 = mean_{i != j} k(a_i, a_j) + mean_{i != j} k(b_i, b_j) - 2 mean_{i, j} k(a_i, b_j)``.

    Unlike the Frechet distance it has no bias that depends on the number of
    samples (its expectation is the population value, 0 for two samples of
    the same distribution, so a single estimate can be slightly negative),
    and it assumes no Gaussian shape.  Here it runs on the same classifier
    features as :func:`frechet_distance`.

    Parameters
    ----------
    features_a, features_b : array_like
        ``(samples, features)`` arrays with the same number of features.
    degree : int
        Degree of the polynomial kernel (KID: 3).
    coef0 : float
        Constant added inside the kernel (KID: 1).

    Returns
    -------
    float
        The estimate of ``MMD^2``.

    Raises
    ------
    ValueError
        If an input is not 2-D, has fewer than 2 samples, or the feature
        counts differ.

    Examples
    --------
    With the linear kernel (``degree=1, coef0=0``) the biased estimate is
    the squared distance between the means over ``d``: 25/2 for a shift by
    (3, 4) in 2-D.  The unbiased one leaves out the ``i = j`` terms, which
    here removes 1/6 per set:

    >>> a = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    >>> round(kernel_distance(a, a + [3.0, 4.0], degree=1, coef0=0.0), 4)  # 25/2 - 2/6
    12.1667
    """
    a, b = _check_feature_pair(features_a, features_b)
    degree = _validation.check_int("degree", degree, minimum=1)
    coef0 = _validation.check_float("coef0", coef0, minimum=0.0)
    kernel = lambda x, y: _polynomial_kernel(x, y, degree, coef0)  # noqa: E731
    return float(_kernel_distance_from_matrices(kernel(a, a), kernel(b, b), kernel(a, b)))
