"""Shared fixtures: small seeded images, and a quiet TensorFlow for every test."""

import os

import numpy as np
import pytest

# Keep TensorFlow's C++ logging quiet before any test imports it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import matplotlib  # noqa: E402

matplotlib.use("Agg")


@pytest.fixture
def rng():
    """A NumPy generator with a fixed seed."""
    return np.random.default_rng(1234)


@pytest.fixture
def images(rng):
    """A batch of 3 random 16x16 grayscale images in [0, 1]."""
    return rng.random((3, 16, 16, 1), dtype=np.float32)


@pytest.fixture
def no_profile_env(monkeypatch):
    """Remove CNN_TUTOR_PROFILE so the default rule applies."""
    monkeypatch.delenv("CNN_TUTOR_PROFILE", raising=False)
