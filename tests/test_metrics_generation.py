"""Tests of cnn_tutor.metrics.generation: hand-computed scores and distances, errors."""

import numpy as np
import pytest

from cnn_tutor.metrics import generation, generation_intervals, memorisation


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


# -- kernel distance, bootstrap intervals, memorisation ------------------------------------------------------


def _naive_kid(a, b, degree=3, coef0=1.0):
    d = a.shape[1]
    k = lambda x, y: (x @ y / d + coef0) ** degree  # noqa: E731
    m, n = len(a), len(b)
    within_a = sum(k(a[i], a[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    within_b = sum(k(b[i], b[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    cross = sum(k(a[i], b[j]) for i in range(m) for j in range(n)) / (m * n)
    return within_a + within_b - 2 * cross


def test_kernel_distance_matches_the_double_sum(rng):
    a, b = rng.standard_normal((7, 3)), rng.standard_normal((5, 3)) + 0.5
    assert generation.kernel_distance(a, b) == pytest.approx(_naive_kid(a, b), rel=1e-10)
    assert generation.kernel_distance(a, b, degree=2, coef0=0.5) == pytest.approx(_naive_kid(a, b, 2, 0.5), rel=1e-10)


def test_kernel_distance_is_unbiased_for_one_distribution():
    # Averaged over many pairs of samples from the same Gaussian, the unbiased estimate is 0 (the biased one is not).
    rng = np.random.default_rng(0)
    values = [generation.kernel_distance(rng.standard_normal((20, 4)), rng.standard_normal((20, 4))) for _ in range(300)]
    spread = np.std(values) / np.sqrt(len(values))
    assert abs(np.mean(values)) < 3 * spread
    shifted = generation.kernel_distance(rng.standard_normal((400, 4)), rng.standard_normal((400, 4)) + 1.0)
    assert shifted > 20 * spread


def test_kernel_distance_errors():
    with pytest.raises(ValueError, match="same number of features"):
        generation.kernel_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match=r"`degree` must be >= 1"):
        generation.kernel_distance(np.zeros((5, 3)), np.zeros((5, 3)), degree=0)


def test_bootstrap_weights_equal_the_repeated_samples(rng):
    # A resample with counts c is the data set with row i repeated c_i times: score and FD agree exactly;
    # the kernel distance counts pairs of different originals only.
    p = rng.dirichlet(np.ones(4), size=6)
    f_a, f_b = rng.standard_normal((6, 3)), rng.standard_normal((5, 3))
    c_a, c_b = np.array([2.0, 0, 1, 1, 0, 2]), np.array([1.0, 3, 0, 1, 0])
    repeated_p, repeated_a, repeated_b = np.repeat(p, c_a.astype(int), 0), np.repeat(f_a, c_a.astype(int), 0), np.repeat(f_b, c_b.astype(int), 0)
    assert generation_intervals._weighted_score(p, c_a[None])[0] == pytest.approx(generation.classifier_score(repeated_p), rel=1e-10)
    assert generation_intervals._weighted_frechet(f_a, c_a, f_b, c_b, 0.0) == pytest.approx(
        generation.frechet_distance(repeated_a, repeated_b, ridge=0.0), rel=1e-6)
    kern = lambda x, y: generation._polynomial_kernel(x, y, 3, 1.0)  # noqa: E731
    got = generation._kernel_distance_from_matrices(kern(f_a, f_a), kern(f_b, f_b), kern(f_a, f_b), c_a[None], c_b[None])[0]
    ia, ib = np.repeat(np.arange(6), c_a.astype(int)), np.repeat(np.arange(5), c_b.astype(int))
    k = lambda x, y: (x @ y / 3 + 1.0) ** 3  # noqa: E731
    pairs_a = [(i, j) for i in range(len(ia)) for j in range(len(ia)) if ia[i] != ia[j]]
    pairs_b = [(i, j) for i in range(len(ib)) for j in range(len(ib)) if ib[i] != ib[j]]
    expected = (
        np.mean([k(f_a[ia[i]], f_a[ia[j]]) for i, j in pairs_a])
        + np.mean([k(f_b[ib[i]], f_b[ib[j]]) for i, j in pairs_b])
        - 2 * np.mean([k(f_a[x], f_b[y]) for x in ia for y in ib])
    )
    assert got == pytest.approx(expected, rel=1e-10)
    ones = generation._kernel_distance_from_matrices(kern(f_a, f_a), kern(f_b, f_b), kern(f_a, f_b), np.ones((1, 6)), np.ones((1, 5)))
    assert ones[0] == pytest.approx(generation.kernel_distance(f_a, f_b), rel=1e-10)


def test_generation_report_values_and_intervals(tiny_classifier, rng):
    images = rng.random((40, 28, 28, 1)).astype(np.float32)
    real = rng.random((30, 28, 28, 1)).astype(np.float32) ** 3
    report = generation_intervals.generation_report(tiny_classifier, images, real, num_resamples=50, rng=0)
    plain = generation.generation_scores(tiny_classifier, images, real)
    assert report.score.value == pytest.approx(plain.score, rel=1e-6)
    assert report.frechet.value == pytest.approx(plain.frechet, rel=1e-6)
    features = generation.classifier_features(tiny_classifier, images)
    real_features = generation.classifier_features(tiny_classifier, real)
    assert report.kernel.value == pytest.approx(generation.kernel_distance(features, real_features), rel=1e-6)
    for interval in (report.score, report.frechet, report.kernel):
        assert interval.low <= interval.high
        assert interval.low <= interval.value * 1.5 + 1e-9 and interval.high >= interval.value * 0.5 - 1e-9
    np.testing.assert_array_equal(report.predicted, plain.predicted)
    # the FD's interval is centred on the estimate (a normal interval with the bootstrap standard error)
    assert report.frechet.low <= report.frechet.value <= report.frechet.high
    if report.frechet.low > 0:
        assert report.frechet.high - report.frechet.value == pytest.approx(report.frechet.value - report.frechet.low)
    again = generation_intervals.generation_report(tiny_classifier, images, real, num_resamples=50, rng=0)
    assert again.frechet == report.frechet  # the same resamples for the same rng
    assert "[" in str(report.score)
    with pytest.raises(ValueError, match=r"`level` must lie strictly between 0 and 1"):
        generation_intervals.generation_report(tiny_classifier, images, real, level=1.0)
    with pytest.raises(ValueError, match=r"`num_resamples` must be >= 10"):
        generation_intervals.generation_report(tiny_classifier, images, real, num_resamples=5)


def test_nearest_neighbours_matches_brute_force(rng):
    import scipy.spatial

    queries, references = rng.random((13, 5, 5, 1)), rng.random((17, 5, 5, 1))
    found = memorisation.nearest_neighbours(queries, references, batch_size=4)
    distances = scipy.spatial.distance.cdist(queries.reshape(13, -1), references.reshape(17, -1))
    np.testing.assert_array_equal(found.indices, distances.argmin(axis=1))
    np.testing.assert_allclose(found.distances, distances.min(axis=1), rtol=1e-9)
    with pytest.raises(ValueError, match="same size per item"):
        memorisation.nearest_neighbours(queries, references[:, :4])


def test_memorisation_check_tells_copies_from_new_samples(rng):
    train, held_out = rng.random((200, 6, 6, 1)), rng.random((200, 6, 6, 1))
    fresh = memorisation.memorisation_check(rng.random((100, 6, 6, 1)), train, held_out, quantile=0.05)
    assert 0.9 < fresh.median_ratio < 1.1
    assert fresh.copy_share < 0.15
    copies = memorisation.memorisation_check(train[:100], train, held_out)
    assert copies.median_ratio == 0.0 and copies.copy_share == 1.0
    np.testing.assert_array_equal(copies.sample_neighbours, np.arange(100))
    assert copies.threshold == pytest.approx(np.quantile(copies.held_out_distances, 0.01))
    with pytest.raises(ValueError, match=r"`quantile` must lie strictly between 0 and 1"):
        memorisation.memorisation_check(train, train, held_out, quantile=0.0)
