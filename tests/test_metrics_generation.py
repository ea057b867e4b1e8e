"""Tests of cnn_tutor.metrics.generation: hand-computed scores and distances, errors."""

import numpy as np
import pytest

from cnn_tutor.metrics import generation


def test_classifier_score_uniform_is_one():
    assert generation.classifier_score(np.full((5, 10), 0.1)) == pytest.approx(1.0)


def test_classifier_score_balanced_one_hot_is_number_of_classes():
    assert generation.classifier_score(np.eye(10)[np.arange(50) % 10]) == pytest.approx(10.0)


def test_classifier_score_one_class_only_is_one():
    assert generation.classifier_score(np.eye(10)[np.zeros(20, dtype=int)]) == pytest.approx(1.0)


def test_classifier_score_two_classes_by_hand():
    # half the images certain of class 0, half split 50/50: p(y) = (0.75, 0.25)
    p = np.array([[1.0, 0.0], [0.5, 0.5]])
    kl = 0.5 * (np.log(1 / 0.75)) + 0.5 * (0.5 * np.log(0.5 / 0.75) + 0.5 * np.log(0.5 / 0.25))
    assert generation.classifier_score(p) == pytest.approx(np.exp(kl), rel=1e-9)


@pytest.mark.parametrize(
    ("probabilities", "match"),
    [
        (np.full((2, 2, 2), 0.25), "2-D"),
        (np.array([[1.5, -0.5]]), r"values in \[0, 1\]"),
        (np.array([[0.3, 0.3]]), "sum to 1"),
    ],
)
def test_classifier_score_errors(probabilities, match):
    with pytest.raises(ValueError, match=match):
        generation.classifier_score(probabilities)


def test_frechet_identical_sets_is_zero(rng):
    features = rng.standard_normal((500, 4))
    assert generation.frechet_distance(features, features) == pytest.approx(0.0, abs=1e-6)


def test_frechet_shifted_and_scaled_gaussians_closed_form(rng):
    # For N(m1, s1^2 I) and N(m2, s2^2 I) in d dimensions: |m1 - m2|^2 + d (s1 - s2)^2.
    a = rng.standard_normal((400, 3))
    a = (a - a.mean(0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(a, rowvar=False))).T  # exact identity covariance
    b = 2.0 * a + np.array([1.0, 2.0, 2.0])
    expected = 9.0 + 3 * (2.0 - 1.0) ** 2
    assert generation.frechet_distance(a, b, ridge=0.0) == pytest.approx(expected, rel=1e-6)


def test_frechet_singular_covariance_with_ridge(rng):
    features = rng.standard_normal((100, 5))
    features[:, 2] = 0.0  # a dead ReLU unit
    shift = np.array([1.0, 1.0, 0.0, 1.0, 1.0])
    assert generation.frechet_distance(features, features + shift) == pytest.approx(4.0, abs=1e-3)


@pytest.mark.parametrize(
    ("a", "b", "match"),
    [
        (np.zeros((1, 3)), np.zeros((5, 3)), "at least 2 samples"),
        (np.zeros((5,)), np.zeros((5, 3)), "2-D"),
        (np.zeros((5, 3)), np.zeros((5, 4)), "same number of features"),
    ],
)
def test_frechet_errors(a, b, match):
    with pytest.raises(ValueError, match=match):
        generation.frechet_distance(a, b)


@pytest.fixture(scope="module")
def tiny_classifier():
    from cnn_tutor.models import build_classifier

    return build_classifier(seed=0, compile=False)


def test_generation_scores_runs_and_checks_inputs(tiny_classifier, rng):
    images = rng.random((20, 28, 28, 1)).astype(np.float32)
    scores = generation.generation_scores(tiny_classifier, images, images)
    assert 1.0 <= scores.score <= 10.0
    assert scores.frechet == pytest.approx(0.0, abs=1e-3)
    assert scores.predicted.shape == (20,)
    features = generation.classifier_features(tiny_classifier, images)
    assert features.shape == (20, 64)
    with pytest.raises(ValueError, match=r"values in \[0.0, 1.0\]"):
        generation.generation_scores(tiny_classifier, images * 2 - 1, images)
    with pytest.raises(ValueError, match="4-D"):
        generation.generation_scores(tiny_classifier, images[..., 0], images)
    with pytest.raises(ValueError, match=r"must have shape \(batch, 28, 28, 1\) for model"):
        generation.generation_scores(tiny_classifier, np.zeros((4, 32, 32, 1)), images)
    with pytest.raises(ValueError, match="at least 2 images"):
        generation.generation_scores(tiny_classifier, images[:1], images)
