"""The scoring functions against the torch reference tests/reference/scoring.py (written from
METHOD.md 1.1-1.3): values and, for dualcoop_logits_vjp, torch autograd gradients, on seeded
random cases at realistic scale (cosines, 100 * cosine logits) to 1e-10 in double; float32 to
float32 precision; METHOD.md 7.5 / 7.6; any strides; thread counts; bad input."""

import numpy as np
import pytest
import torch

import mlr
import scoring as ref


def rng(seed):
    return np.random.default_rng(seed)


def dualcoop_case(seed, b=4, l=50, d=512, c=20, dtype=np.float64):
    g = rng(seed)
    # CLIP-like features: a shared direction puts the cosines around 0.4 (logits around 40).
    common = g.normal(size=d)
    visual = (g.normal(size=(b, l, d)) + 0.8 * common).astype(dtype)
    text_neg = (g.normal(size=(c, d)) + 0.8 * common).astype(dtype)
    text_pos = (g.normal(size=(c, d)) + 0.8 * common).astype(dtype)
    grad_out = g.normal(size=(b, 2, c)).astype(dtype)
    return visual, text_neg, text_pos, grad_out


def t(x):
    return torch.from_numpy(np.ascontiguousarray(x))


def test_method_7_5_dualcoop_head():
    visual = np.array([[[1, 0, 1], [2, 1, 0], [0, 1, 2], [1, 2, 1]]], float)
    pos = np.array([[1, 1, 0], [0, 1, 2]], float)
    neg = np.array([[2, 1, 0], [0, 1, 1]], float)
    o = mlr.dualcoop_logits(visual, neg, pos)
    assert o[0, 0] == pytest.approx([95.662686465191, 94.802303326473], rel=1e-12)
    assert o[0, 1] == pytest.approx([93.535364647039, 99.854609049077], rel=1e-12)
    assert mlr.dual_prompt_probability(o)[0] == pytest.approx([0.106469508765, 0.993646058414], rel=1e-11)


def test_method_7_6_mkt_scores():
    patches = np.array([[[1, 0], [0, 1], [1, 1], [-1, 0]]], float)
    glob = np.array([[0.5, -1]])
    emb = np.array([[1, 0], [0, 1], [1, -1]], float)
    assert mlr.mkt_scores(patches, glob, emb, k=2)[0] == pytest.approx(
        [0.466963954290, 0.066072091421, 0.567558529535], abs=5e-13)
    assert mlr.mkt_scores(patches, glob, emb[:2], k=2)[0] == pytest.approx([0.577160188343, -0.093660204907], abs=5e-13)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_dualcoop_logits_and_vjp_match_torch_autograd(seed):
    visual, tn, tp, grad_out = dualcoop_case(seed, b=3, l=197, d=512, c=80)
    tv, ttn, ttp = (t(x).requires_grad_() for x in (visual, tn, tp))
    expected = ref.dualcoop_logits(tv, ttn, ttp)
    (expected * t(grad_out)).sum().backward()
    logits = mlr.dualcoop_logits(visual, tn, tp)
    assert np.abs(logits).max() > 20  # the real scale: 100 * cosine
    np.testing.assert_allclose(logits, expected.detach().numpy(), rtol=0, atol=1e-10)
    g_neg, g_pos, g_vis = mlr.dualcoop_logits_vjp(visual, tn, tp, grad_out)
    for got, want in ((g_neg, ttn.grad), (g_pos, ttp.grad), (g_vis, tv.grad)):
        want = want.numpy()
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-10 * max(1.0, np.abs(want).max()))
    np.testing.assert_allclose(mlr.dual_prompt_probability(logits),
                               ref.dual_prompt_probability(expected.detach()).numpy(), rtol=0, atol=1e-12)


def test_dualcoop_other_scales_and_aggregate():
    visual, tn, tp, _ = dualcoop_case(4, b=2, l=30, d=64, c=9)
    expected = ref.dualcoop_logits(t(visual), t(tn), t(tp), 7.0, 2.5).numpy()
    np.testing.assert_allclose(mlr.dualcoop_logits(visual, tn, tp, spatial_scale=7.0, output_scale=2.5), expected,
                               rtol=0, atol=1e-12)
    sp = mlr.region_similarity(visual, tp)
    sn = mlr.region_similarity(visual, tn)
    np.testing.assert_allclose(sp, ref.region_similarity(t(visual), t(tp)).numpy(), rtol=0, atol=1e-14)
    np.testing.assert_allclose(mlr.class_specific_aggregate(sp, sn, 7.0, 2.5),
                               ref.class_specific_aggregate(t(sp), t(sn), 7.0, 2.5).numpy(), rtol=0, atol=1e-12)


def test_dualcoop_float32_and_strides_and_threads():
    visual, tn, tp, grad_out = dualcoop_case(5, b=2, l=50, d=128, c=10)
    expected = ref.dualcoop_logits(t(visual), t(tn), t(tp)).numpy()
    got = mlr.dualcoop_logits(visual.astype(np.float32), tn.astype(np.float32), tp.astype(np.float32))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-4)
    # DualCoOp's own layout [B, D, L] viewed as [B, L, D], text transposed twice: same values, and
    # one or two threads give the same bits.
    bdl = np.ascontiguousarray(visual.transpose(0, 2, 1))
    tn_f = np.asfortranarray(tn)
    one = mlr.dualcoop_logits(bdl.transpose(0, 2, 1), tn_f, tp, threads=1)
    two = mlr.dualcoop_logits(bdl.transpose(0, 2, 1), tn_f, tp, threads=2)
    np.testing.assert_allclose(one, expected, rtol=0, atol=1e-10)
    assert np.array_equal(one, two)
    a = mlr.dualcoop_logits_vjp(bdl.transpose(0, 2, 1), tn_f, tp, grad_out, threads=1)
    b = mlr.dualcoop_logits_vjp(bdl.transpose(0, 2, 1), tn_f, tp, grad_out, threads=2)
    for x, y in zip(a, b):
        assert np.array_equal(x, y)


@pytest.mark.parametrize("k", [16, 18])
def test_mkt_scores_match_torch(k):
    g = rng(10 + k)
    patches = g.normal(size=(4, 196, 512)) * 0.1
    glob = g.normal(size=(4, 512)) * 0.1
    emb = g.normal(size=(1006, 512))
    expected = ref.mkt_scores(t(patches), t(glob), t(emb), k).numpy()
    np.testing.assert_allclose(mlr.mkt_scores(patches, glob, emb, k=k), expected, rtol=0, atol=1e-13)
    # The class set matters (METHOD.md 1.2.4): the 81 "unseen" rows scored alone.
    np.testing.assert_allclose(mlr.mkt_scores(patches, glob, emb[925:], k=k),
                               ref.mkt_scores(t(patches), t(glob), t(emb[925:]), k).numpy(), rtol=0, atol=1e-13)
    got32 = mlr.mkt_scores(patches.astype(np.float32), glob.astype(np.float32), emb.astype(np.float32), k=k)
    np.testing.assert_allclose(got32, expected, rtol=0, atol=1e-5)


def test_mkt_default_k_is_16():
    g = rng(30)
    patches, glob, emb = g.normal(size=(2, 40, 8)), g.normal(size=(2, 8)), g.normal(size=(5, 8))
    assert np.array_equal(mlr.mkt_scores(patches, glob, emb), mlr.mkt_scores(patches, glob, emb, k=16))


def test_tagclip_coarse_matches_torch():
    g = rng(40)
    patches = g.normal(size=(768, 512)) + 0.5
    text = g.normal(size=(45, 512)) + 0.5
    expected = ref.tagclip_coarse(t(patches), t(text)).numpy()
    got = mlr.tagclip_coarse(patches, text)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got.sum(1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(mlr.tagclip_coarse(patches, text, logit_scale=50.0),
                               ref.tagclip_coarse(t(patches), t(text), 50.0).numpy(), rtol=0, atol=1e-12)


def test_torch_tensors_are_accepted():
    visual, tn, tp, _ = dualcoop_case(6, b=2, l=10, d=32, c=4)
    np.testing.assert_array_equal(mlr.dualcoop_logits(t(visual), t(tn), t(tp)), mlr.dualcoop_logits(visual, tn, tp))


@pytest.mark.parametrize("call, message", [
    (lambda v, n, p: mlr.dualcoop_logits(v, n[:, :3], p), "text_neg: expected shape (2, 4) (D = 4 from visual"),
    (lambda v, n, p: mlr.dualcoop_logits(v, n, p[:1]), "text_pos: expected shape (2, 4) (that of text_neg)"),
    (lambda v, n, p: mlr.dualcoop_logits(v, n.astype(np.float32), p), "text_neg: expected dtype float64 (that of visual)"),
    (lambda v, n, p: mlr.dualcoop_logits(np.zeros_like(v), n, p), "visual: expected vectors of non-zero norm"),
    (lambda v, n, p: mlr.dualcoop_logits_vjp(v, n, p, np.ones((1, 2, 3))), "grad_out: expected shape (1, 2, 2)"),
    (lambda v, n, p: mlr.mkt_scores(v, v[:, 0], n, k=4), "k: expected 1 <= k <= 3 (the patches per image), found 4"),
    (lambda v, n, p: mlr.tagclip_coarse(v[0], n, logit_scale=float("inf")), "logit_scale: expected a finite value"),
    (lambda v, n, p: mlr.dual_prompt_probability(v), "logits: expected shape (B, 2, C)"),
])
def test_bad_input_raises_value_error(call, message):
    g = rng(50)
    v, n, p = g.normal(size=(1, 3, 4)), g.normal(size=(2, 4)), g.normal(size=(2, 4))
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call(v, n, p)


def test_nan_is_named():
    v = np.ones((1, 3, 4))
    v[0, 2, 1] = np.nan
    with pytest.raises(ValueError, match=r"visual: expected finite values, found nan at \(0, 2, 1\)"):
        mlr.region_similarity(v, np.ones((2, 4)))
