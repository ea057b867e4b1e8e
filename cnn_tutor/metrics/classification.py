"""Classification scores: accuracy of a model on labelled images, and the confusion matrix.

NumPy, on the class probabilities a Keras classifier predicts (any backend).

Used by the Keras models, Generation, FAQ and Future directions chapters.
"""

import numpy as np

from cnn_tutor import _validation

__all__ = ["accuracy", "confusion_matrix"]


def accuracy(model, images, labels, *, batch_size=256):
    """Share of ``images`` whose predicted class (the argmax of ``model``'s output) equals ``labels``.

    Parameters
    ----------
    model : keras.Model
        A classifier whose output has one probability (or logit) per class.
    images : array_like
        ``(n, height, width, channels)`` in [0, 1], fitting the model's input.
    labels : array_like
        ``(n,)`` integer classes.
    batch_size : int
        Images per forward pass.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the images do not fit the model, or labels are out of range.

    Examples
    --------
    >>> import keras
    >>> inputs = keras.Input((2, 2, 1))
    >>> model = keras.Model(inputs, keras.layers.Flatten()(inputs))  # "class" = brightest of 4 pixels
    >>> images = np.zeros((2, 2, 2, 1)); images[0, 0, 1] = 1; images[1, 1, 1] = 1
    >>> accuracy(model, images, [1, 0])
    0.5
    """
    images = _validation.check_model_input(model, images, "images")
    labels = _validation.check_labels("labels", labels, num_classes=int(model.output_shape[-1]), length=len(images))
    batch_size = _validation.check_int("batch_size", batch_size, minimum=1)
    scores = np.asarray(model.predict(images, batch_size=batch_size, verbose=0))
    return float(np.mean(scores.argmax(axis=-1) == labels))


def confusion_matrix(y_true, y_pred, *, num_classes=10):
    """Counts of (true class, predicted class) pairs.

    Returns
    -------
    numpy.ndarray
        int64 ``(num_classes, num_classes)``; row ``i``, column ``j`` counts
        images of class ``i`` predicted as ``j``.

    Raises
    ------
    ValueError
        If the labels are out of range or differ in number.

    Examples
    --------
    >>> confusion_matrix([0, 1, 1], [0, 1, 0], num_classes=2)
    array([[1, 0],
           [1, 1]])
    """
    num_classes = _validation.check_int("num_classes", num_classes, minimum=2)
    y_true = _validation.check_labels("y_true", y_true, num_classes=num_classes)
    y_pred = _validation.check_labels("y_pred", y_pred, num_classes=num_classes, length=len(y_true))
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix
