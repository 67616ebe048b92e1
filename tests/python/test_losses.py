"""The losses of the Python module against the torch references of tests/reference/losses.py
(autograd gradients), on seeded random cases in realistic ranges, float64 to 1e-10."""

import itertools

import numpy as np
import pytest
import torch

import losses
import mlr

torch.set_num_threads(1)


def assert_loss(actual, expected, tol):
    """Values to `tol` relative; gradients |delta| <= tol * max |g| over the tensor (METHOD.md 7)."""
    value, grad = actual
    ref_value, ref_grad = expected
    assert grad.dtype == ref_grad.dtype and grad.shape == ref_grad.shape
    assert value == pytest.approx(ref_value, rel=tol, abs=tol * 1e-3)
    scale = max(float(np.abs(ref_grad).max()), 1e-300)
    assert float(np.abs(grad.astype(np.float64) - ref_grad.astype(np.float64)).max()) <= tol * scale


def canonical_targets(rng, shape, ignored=0.1, positive=0.3):
    u = rng.uniform(size=shape)
    return np.where(u < ignored, -1, np.where(u < ignored + positive, 1, 0)).astype(np.int8)


def asl_logits(rng, b, c):
    """Logits of a trained head: mostly moderate, some saturated beyond |x| = 20."""
    x = rng.normal(scale=4.0, size=(b, c))
    far = rng.uniform(size=(b, c)) < 0.15
    x[far] = rng.choice([-1, 1], size=far.sum()) * rng.uniform(20, 60, size=far.sum())
    return x


ASL_CASES = list(itertools.product([(4, 1), (4, 0), (2, 1), (0, 0), (2.5, 1.5)], [0.05, 0.0],
                                   ["constant", "differentiable"], ["sum", "mean"]))


@pytest.mark.parametrize("gammas,clip,focal_weight,reduction", ASL_CASES)
def test_asl_matches_torch(gammas, clip, focal_weight, reduction):
    rng = np.random.default_rng(hash((gammas, clip, focal_weight, reduction)) % 2**32)
    for b, c in [(32, 80), (5, 17)]:
        x = asl_logits(rng, b, c)
        y = canonical_targets(rng, (b, c))
        kw = dict(gamma_neg=gammas[0], gamma_pos=gammas[1], clip=clip, focal_weight=focal_weight, reduction=reduction)
        assert_loss(mlr.asl_loss(x, y, **kw), losses.asl_loss(x, y, **kw), 1e-10)
        xf = x.astype(np.float32)
        assert_loss(mlr.asl_loss(xf, y, **kw), losses.asl_loss(xf, y, **kw), 2e-5)


@pytest.mark.parametrize("gammas,clip,focal_weight,reduction", ASL_CASES)
def test_asl_dual_matches_torch(gammas, clip, focal_weight, reduction):
    rng = np.random.default_rng(1 + hash((gammas, clip, focal_weight, reduction)) % 2**32)
    for b, c in [(32, 80), (3, 11)]:
        o = 100 * rng.uniform(-0.2, 0.2, size=(b, 2, c))  # 100 · cosine: gaps up to about ±40
        y = canonical_targets(rng, (b, c))
        kw = dict(gamma_neg=gammas[0], gamma_pos=gammas[1], clip=clip, focal_weight=focal_weight, reduction=reduction)
        assert_loss(mlr.asl_dual_loss(o, y, **kw), losses.asl_dual_loss(o, y, **kw), 1e-10)
        of = o.astype(np.float32)
        assert_loss(mlr.asl_dual_loss(of, y, **kw), losses.asl_dual_loss(of, y, **kw), 2e-5)


def test_asl_dual_defaults_are_dualcoop():
    rng = np.random.default_rng(3)
    o = 100 * rng.uniform(-0.3, 0.3, size=(4, 2, 9))
    y = canonical_targets(rng, (4, 9))
    assert_loss(mlr.asl_dual_loss(o, y), losses.asl_dual_loss(o, y, gamma_neg=2, gamma_pos=1, clip=0.05, eps=1e-6), 1e-10)
    assert_loss(mlr.asl_loss(o[:, 1], y), losses.asl_loss(o[:, 1], y, gamma_neg=4, gamma_pos=1, clip=0.05, eps=1e-8),
                1e-10)


def signed_targets(rng, shape, positive):
    u = rng.uniform(size=shape)
    return np.where(u < positive, 1, np.where(u < 0.95, -1, 0)).astype(np.int8)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("margin_rule", ["reference", "consistent"])
def test_ranking_matches_torch(seed, margin_rule):
    rng = np.random.default_rng(50 + seed)
    b, c = (8, 925) if seed < 2 else (6, int(rng.integers(2, 60)))
    if seed % 2 == 0:
        s = rng.uniform(-1, 1, size=(b, c))  # MKT scores, |s| <= 1
    else:
        s = rng.normal(scale=3.0, size=(b, c))  # unnormalised
    if seed >= 6:
        s = np.round(s * 4) / 4  # ties and pairs exactly on the margin
    y = signed_targets(rng, (b, c), positive=0.005 if seed < 2 else rng.uniform(0.1, 0.8))
    if seed == 3:
        y[0] = 1  # an image without negatives
        y[1] = 0  # one with every label unknown
    for reduction in ["mean", "sum"]:
        kw = dict(margin_rule=margin_rule, reduction=reduction)
        assert_loss(mlr.ranking_loss(s, y, **kw), losses.ranking_loss(s, y, **kw), 1e-10)
        sf = s.astype(np.float32)
        assert_loss(mlr.ranking_loss(sf, y, **kw), losses.ranking_loss(sf, y, **kw), 1e-5)


def test_ranking_margin_quirk_and_workspace():
    s, y = np.array([[2.0, 0, 1]]), np.array([[1, -1, -1]])
    value, g = mlr.ranking_loss(s, y)
    assert value == 0.0 and g[0, 0] == pytest.approx(-1e8) and g[0, 2] == pytest.approx(1e8)
    ref = losses.ranking_loss(s, y)
    np.testing.assert_allclose(g, ref[1], rtol=1e-12)
    value, g = mlr.ranking_loss(s, y, margin_rule="consistent")
    assert value == 0.0 and not g.any()
    ws = mlr.RankingWorkspace()
    rng = np.random.default_rng(0)
    for _ in range(3):
        s = rng.uniform(-1, 1, size=(16, 100))
        y = signed_targets(rng, s.shape, 0.1)
        a = mlr.ranking_loss(s, y, workspace=ws, margin=0.5, eps=1e-6)
        assert_loss(a, losses.ranking_loss(s, y, margin=0.5, eps=1e-6), 1e-10)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_l1_matches_torch(reduction):
    rng = np.random.default_rng(9)
    s, t = rng.normal(size=(16, 512)), rng.normal(size=(16, 512))
    t[0, :5] = s[0, :5]  # sign(0) = 0
    assert_loss(mlr.l1_distillation(s, t, reduction=reduction), losses.l1_distillation(s, t, reduction=reduction),
                1e-10)
    sf, tf = s.astype(np.float32), t.astype(np.float32)
    assert_loss(mlr.l1_distillation(sf, tf, reduction=reduction), losses.l1_distillation(sf, tf, reduction=reduction),
                1e-5)


def test_inputs_any_strides_and_dlpack():
    rng = np.random.default_rng(4)
    big = asl_logits(rng, 20, 30)
    x = big[::2, 1::3]  # non-contiguous
    y = canonical_targets(rng, (10, 10)).T  # transposed
    expected = losses.asl_loss(np.ascontiguousarray(x), np.ascontiguousarray(y))
    assert_loss(mlr.asl_loss(x, y), expected, 1e-10)
    assert_loss(mlr.asl_loss(torch.from_numpy(big)[::2, 1::3], torch.from_numpy(np.ascontiguousarray(y))), expected,
                1e-10)
    assert_loss(mlr.asl_loss(x, y.astype(np.float32)), expected, 1e-10)
    assert_loss(mlr.asl_loss(x, y.astype(np.int64), threads=3), expected, 1e-10)
    o = np.moveaxis(100 * rng.uniform(-0.2, 0.2, size=(2, 6, 7)), 0, 1)  # [B, 2, C] view of a [2, B, C] array
    yd = canonical_targets(rng, (6, 7))
    assert_loss(mlr.asl_dual_loss(o, yd), losses.asl_dual_loss(np.ascontiguousarray(o), yd), 1e-10)
    s = rng.uniform(-1, 1, size=(12, 40)).T  # [40, 12] transposed view
    ys = signed_targets(rng, (40, 12), 0.2)
    assert_loss(mlr.ranking_loss(s, ys), losses.ranking_loss(np.ascontiguousarray(s), ys), 1e-10)


def test_bad_input():
    x = np.zeros((2, 3))
    y = np.array([[1, 0, 1], [0, 2, 0]])
    with pytest.raises(ValueError, match=r"targets: expected labels in the canonical encoding .* found 2 at \(1, 1\)"):
        mlr.asl_loss(x, y)
    with pytest.raises(ValueError, match=r"targets: expected shape \(2, 3\) \(that of logits\), found \(3, 2\)"):
        mlr.asl_loss(x, np.zeros((3, 2), np.int8))
    x[0, 2] = np.nan
    with pytest.raises(ValueError, match=r"logits: expected finite values, found nan at \(0, 2\)"):
        mlr.asl_loss(x, np.zeros((2, 3), np.int8))
    with pytest.raises(ValueError, match="focal_weight: expected one of constant, differentiable; found 'optimized'"):
        mlr.asl_loss(np.zeros((2, 3)), np.zeros((2, 3), np.int8), focal_weight="optimized")
    with pytest.raises(ValueError, match="reduction: expected one of sum, mean"):
        mlr.asl_dual_loss(np.zeros((2, 2, 3)), np.zeros((2, 3), np.int8), reduction="none")
    with pytest.raises(ValueError, match=r"logits: expected shape \(B, 2, C\)"):
        mlr.asl_dual_loss(np.zeros((2, 3, 3)), np.zeros((2, 3), np.int8))
    with pytest.raises(ValueError, match="logits: expected dtype float32 or float64, found int64"):
        mlr.asl_loss(np.zeros((2, 3), np.int64), np.zeros((2, 3), np.int8))
    with pytest.raises(ValueError, match="margin_rule: expected one of reference, consistent"):
        mlr.ranking_loss(np.zeros((2, 3)), np.zeros((2, 3), np.int8), margin_rule="strict")
    with pytest.raises(ValueError, match=r"targets: expected labels in the signed encoding .* found 2 at \(0, 0\)"):
        mlr.ranking_loss(np.zeros((2, 3)), np.full((2, 3), 2, np.int8))
    with pytest.raises(ValueError, match=r"teacher: expected the dtype of student \(float64\), found float32"):
        mlr.l1_distillation(np.zeros((2, 3)), np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"teacher: expected finite values, found inf at \(1, 0\)"):
        mlr.l1_distillation(np.zeros((2, 3)), np.array([[0, 0, 0], [np.inf, 0, 0.]]))
    with pytest.raises(ValueError, match="scores: expected a non-empty tensor"):
        mlr.ranking_loss(np.zeros((0, 3)), np.zeros((0, 3), np.int8))
