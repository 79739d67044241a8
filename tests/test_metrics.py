"""Frechet distance, FVD intervals, IS, PSNR and SSIM against closed forms and scikit-image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from magvit.metrics import (
    LPIPS_NA,
    frechet_distance,
    frechet_distance_from_stats,
    fvd,
    inception_score,
    psnr,
    ssim,
)
from magvit.metrics.image import GRAY_WEIGHTS, ssim_frames


def test_frechet_closed_form_diagonal_gaussians():
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    v1, v2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
    expected = ((mu1 - mu2) ** 2).sum() + (v1 + v2 - 2 * np.sqrt(v1 * v2)).sum()
    got = frechet_distance_from_stats(mu1, np.diag(v1), mu2, np.diag(v2))
    assert got == pytest.approx(expected, rel=1e-9)


def test_frechet_identical_sets_zero_and_symmetric():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(300, 8)), rng.normal(1.0, 2.0, size=(200, 8))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-6)


def test_frechet_matches_eigendecomposition_on_random_spd():
    rng = np.random.default_rng(1)
    for _ in range(5):
        x, y = rng.normal(size=(6, 6)), rng.normal(size=(6, 6))
        s1, s2 = x @ x.T + 0.1 * np.eye(6), y @ y.T + 0.1 * np.eye(6)
        mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
        # independent route: the general matrix square root of the (non-symmetric) product S1 S2, as pytorch-fid
        covmean = scipy.linalg.sqrtm(s1 @ s2)
        assert np.allclose(covmean @ covmean, s1 @ s2)
        expected = ((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean).real
        assert frechet_distance_from_stats(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-7)


def test_frechet_stays_finite_and_non_negative_for_singular_covariances():
    """Fewer clips than features (rank-deficient covariances, as in a small bootstrap resample): real, finite,
    > 0 between two sets, and 0 up to rounding for a set against itself."""
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(5, 16)), rng.normal(size=(7, 16)) + 0.5
    d = frechet_distance(a, b)
    assert np.isfinite(d) and d > 0
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-5)  # vs a total variance of ~16


def test_frechet_error_paths():
    good = np.random.default_rng(0).normal(size=(10, 4))
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance(np.where(good > 1, np.nan, good), good)
    with pytest.raises(ValueError, match="widths differ: 4 vs 3"):
        frechet_distance(good, good[:, :3])
    with pytest.raises(ValueError, match="at least 2 samples"):
        frechet_distance(good[:1], good)
    with pytest.raises(ValueError, match=r"shape \[N, D\]"):
        frechet_distance(good[0], good)


def test_fvd_interval_and_counts():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(200, 4)), rng.normal(0.5, 1.0, size=(150, 4))
    result = fvd(a, b, num_bootstrap=50, seed=0)
    assert result.n_real == 200 and result.n_fake == 150
    assert result.low < result.value < result.high
    assert result.value == pytest.approx(frechet_distance(a, b))
    assert fvd(a, b, num_bootstrap=50, seed=0) == result  # seeded: repeats exactly
    assert result.value == pytest.approx(4 * 0.25, abs=0.5)  # ~ ||mu diff||^2


def test_inception_score_bounds():
    k = 7
    assert inception_score(np.full((70, k), 1 / k), splits=7)[0] == pytest.approx(1.0)
    confident = np.eye(k)[np.arange(70) % k]
    mean, std = inception_score(confident, splits=10)
    assert mean == pytest.approx(k, rel=1e-6) and std == pytest.approx(0, abs=1e-6)
    with pytest.raises(ValueError, match="sum to 1"):
        inception_score(np.ones((10, 3)))


def test_psnr_ssim_match_skimage():
    """skimage's SSIM equals the official convention when told it: grayscale frames (the official weights),
    ``gaussian_weights=True, sigma=1.5`` (its window then spans 11 px: truncate 3.5), ``use_sample_covariance=False``
    (its default divides by N - 1), ``data_range=1``; its default is a 7 x 7 uniform window with sample covariance
    and it filters the padded frame before cropping the border, which leaves the same valid map."""
    g = torch.Generator().manual_seed(0)
    a = torch.rand(2, 3, 3, 24, 20, generator=g)
    b = (a + 0.1 * torch.randn(a.shape, generator=g)).clamp(0, 1)
    frames_a = a.permute(0, 2, 3, 4, 1).reshape(-1, 24, 20, 3).double().numpy()
    frames_b = b.permute(0, 2, 3, 4, 1).reshape(-1, 24, 20, 3).double().numpy()
    gray = np.array(GRAY_WEIGHTS)
    ref_ssim = np.mean([structural_similarity(x @ gray, y @ gray, gaussian_weights=True, sigma=1.5,
                                              use_sample_covariance=False, data_range=1.0)
                        for x, y in zip(frames_a, frames_b, strict=True)])
    ref_psnr = np.mean([peak_signal_noise_ratio(x, y, data_range=1.0) for x, y in zip(frames_a, frames_b, strict=True)])
    assert ssim(a, b) == pytest.approx(ref_ssim, abs=1e-6)
    assert psnr(a, b) == pytest.approx(ref_psnr, abs=1e-6)
    rgb_ssim = np.mean([structural_similarity(x, y, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                              data_range=1.0, channel_axis=-1)
                        for x, y in zip(frames_a, frames_b, strict=True)])
    assert abs(ssim(a, b) - rgb_ssim) > 1e-3  # the old RGB convention is a different number
    assert ssim(a, a) == pytest.approx(1.0) and 0.0 < ssim(a, b) < 1.0
    with pytest.raises(ValueError, match="differ in shape"):
        psnr(a, b[:1])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ssim(a * 2, b)
    assert "n/a" in LPIPS_NA and "torchvision" in LPIPS_NA


def test_fvd_interval_is_bias_corrected_at_the_noise_floor():
    """Two samples of one distribution: the raw bootstrap sits above the estimate; ours contains it."""
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(300, 16)), rng.normal(size=(300, 16))
    result = fvd(a, b, num_bootstrap=60, seed=0)
    assert 0.0 <= result.low <= result.value <= result.high
    estimate = result.estimate()
    assert estimate.low == result.low and estimate.high == result.high


def test_fvd_groups_known_answer():
    """Each group's fake features are its real ones shifted by a constant d_g: FD = |d_g|^2 exactly (equal
    covariances), so the grouped FVD is the mean and population std of |d_g|^2."""
    from magvit.metrics import fvd_groups

    rng = np.random.default_rng(0)
    real = rng.normal(size=(40, 3))
    shifts = np.array([1.0, 2.0, 3.0, 4.0])
    fake = real + np.repeat(shifts, 10)[:, None] * np.array([1.0, 0.0, 0.0])
    mean, std = fvd_groups(real, fake, groups=4)
    np.testing.assert_allclose(mean, np.mean(shifts**2), rtol=1e-6)
    np.testing.assert_allclose(std, np.std(shifts**2), rtol=1e-6)
    with pytest.raises(ValueError, match="pairs real and fake"):
        fvd_groups(real, fake[:30], groups=4)
    with pytest.raises(ValueError, match="cannot fill"):
        fvd_groups(real[:6], fake[:6], groups=4)


REFERENCE = Path(__file__).parent / "data" / "ssim_tf_reference.npz"


@pytest.mark.parametrize("case", ["random", "structured", "small"])
def test_ssim_equals_tf_image_ssim_on_grayscale_frames(case):
    """The official BAIR SSIM (``ssim_tf``: rgb2gray, then ``tf.image.ssim``), computed by TensorFlow in
    ``benchmarks/make_ssim_reference.py``: equal per frame within 1e-5."""
    ref = np.load(REFERENCE)
    a, b = (torch.from_numpy(ref[f"{case}_{k}"]).permute(0, 4, 1, 2, 3) for k in "ab")  # [N, T, H, W, 3] -> ours
    expected = ref[f"{case}_ssim"]
    got = ssim_frames(a, b).numpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)
    assert ssim(a, b) == pytest.approx(float(expected.mean()), abs=1e-5)
    assert ssim(b, a) == pytest.approx(ssim(a, b), abs=1e-12)  # symmetric


def test_ssim_reference_spans_the_range():
    """The reference is not all near 0: the structured pair sits well inside (0, 1), the random pair near 0."""
    ref = np.load(REFERENCE)
    assert 0.4 < ref["structured_ssim"].min() and ref["structured_ssim"].max() < 0.95
    assert np.abs(ref["random_ssim"]).max() < 0.15


def test_ssim_error_paths():
    a = torch.rand(1, 3, 2, 10, 16)
    with pytest.raises(ValueError, match="smaller than the 11x11"):
        ssim(a, a)
    with pytest.raises(ValueError, match="channels"):
        ssim(torch.rand(1, 1, 2, 16, 16), torch.rand(1, 1, 2, 16, 16))
    with pytest.raises(ValueError, match="differ in shape"):
        ssim(torch.rand(1, 3, 2, 16, 16), torch.rand(1, 3, 3, 16, 16))
