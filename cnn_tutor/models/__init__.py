"""Keras model builders, one module per family.

Each ``build_*`` function returns a Keras model and takes every
hyperparameter as an argument.
"""

__all__ = []
