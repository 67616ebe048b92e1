"""The TagCLIP refinement (mlr.region_boxes, tagclip_dmar, tagclip_local, tagclip_reidentify,
tagclip_classify) against the numpy reference tests/reference/tagclip_refine.py (written from
METHOD.md 2), on seeded structured inputs (planted attention blocks and class regions) at the
grids 16 x 12, 24 x 32 and 20 x 20 with K = 45 (20 foreground + 25 background), L = 12, in both
modes: in float64 every discrete intermediate is equal and every score within 1e-10; in float32
each step is checked given mlr's own previous step, within the rounding bounds derived below.
Then the quirk cases of METHOD.md 6.6 in both modes, thread counts, and bad input.

float32 bounds (u = 2^-24, the unit roundoff). mlr forms tau_l, the fused mean and all of the
class maps in double, and the two products P1 = A* P and P2 = A* Q (Q = m . P) with its GEMM in
float32. All operands are non-negative, so for any summation order (blocked, FMA or not) the
product of the float32-rounded A^ (|A^ - A*| <= u |A*|) with P differs from the exact A* P by at
most (gamma_N (1 + u) + u) (A* P) <= (gamma_N + 2u) (A* P) entry-wise, gamma_N = N u / (1 - N u)
(Higham, Accuracy and Stability, 3.5). A* itself is one rounding of a double: <= u |A*|. Every
decision (vote, binary maps, boxes, candidates, CWR regions) is then compared exactly with the
reference evaluated on mlr's float32 P1 / P2 (upcast), since mlr decides in double on the same
values; fusion is one rounding of a double (<= u) with the engine's probabilities rounded to
float32 ((1 - lambda) u g). End to end, a float32 run may legitimately flip a borderline patch
(METHOD.md 6.6 item 34), so it is not compared with a float64 run.
"""

import numpy as np
import pytest

import mlr
import tagclip_refine as ref

GRIDS = [(16, 12), (24, 32), (20, 20)]
SEEDS = [0, 1, 6]
C = 20
U32 = 2.0 ** -24


def case(seed, grid, dtype=np.float64):
    # Odd seeds give [L, N, N] maps (no class token).
    return ref.structured_case(seed, grid, dtype=dtype, class_token=seed % 2 == 0)


def recorded(engine):
    """engine wrapped to record the requests it receives."""
    seen = []

    def call(request):
        seen.append(request)
        return engine(request)

    return call, seen


def assert_requests_equal(got, want):
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert (a["class_index"], a["box"], a["pixels"]) == (b["class_index"], b["box"], b["pixels"])
        assert a["image"] == 0 and a["token_mask"].dtype == np.uint8
        np.testing.assert_array_equal(a["token_mask"], b["token_mask"])
        np.testing.assert_array_equal(a["attention_mask"], b["attention_mask"])


def assert_dmar_equal(got, want, mode, atol=1e-10):
    np.testing.assert_array_equal(got["vote_mask"], want["vote_mask"])
    for name in ("masked_attention", "first_refinement", "refined"):
        np.testing.assert_allclose(got[name], want[name], rtol=0, atol=atol, err_msg=name)
    if "binary_maps" in got:
        np.testing.assert_array_equal(got["binary_maps"], ref.binary_maps(want["first_refinement"], mode))
    np.testing.assert_array_equal(got["box_masks"], want["box_masks"])
    assert got["boxes"] == want["boxes"]


def assert_cwr_equal(got, want, atol=1e-10):
    assert got["candidates"] == want["candidates"]
    assert got["boxes"] == want["boxes"]
    np.testing.assert_array_equal(got["reidentified"], want["reidentified"])
    np.testing.assert_allclose(got["global_scores"], want["global_scores"], rtol=0, atol=atol)  # NaN rows alike
    np.testing.assert_allclose(got["final_scores"], want["final_scores"], rtol=0, atol=atol)
    np.testing.assert_array_equal(got["labels"], want["labels"])


# --- float64: every intermediate -----------------------------------------------------------------

@pytest.mark.parametrize("mode", ref.MODES)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("grid", GRIDS)
def test_dmar_local_cwr_match_reference(grid, seed, mode):
    c = case(seed, grid)
    got = mlr.tagclip_dmar(c["attn"], c["coarse"], grid, mode=mode)
    want = ref.dmar(c["attn"], c["coarse"], grid, mode=mode)
    assert_dmar_equal(got, want, mode)
    assert sum(map(len, want["boxes"])) > 45  # several regions per class: the box rule is exercised

    local = mlr.tagclip_local(got["refined"], C)
    np.testing.assert_allclose(local, ref.local_scores(want["refined"], C), rtol=0, atol=1e-10)

    engine = ref.fake_global_scores(seed, 45)
    mine, seen_mine = recorded(engine)
    theirs, seen_theirs = recorded(engine)
    # Both sides run CWR on mlr's P2, so that the decisions compared are on the same values.
    assert_cwr_equal(mlr.tagclip_reidentify(got["refined"], local, grid, C, mine, mode=mode),
                     ref.reidentify(got["refined"], local, grid, C, theirs, mode=mode))
    assert_requests_equal(seen_mine, seen_theirs)
    assert seen_mine or seed == 6  # candidates are reidentified in the cases that have them


@pytest.mark.parametrize("mode", ref.MODES)
@pytest.mark.parametrize("grid", GRIDS)
def test_classify_matches_reference(grid, mode):
    c = case(8, grid)
    engine = ref.fake_global_feature(8, c["text"])
    mine, seen_mine = recorded(engine)
    theirs, seen_theirs = recorded(engine)
    got = mlr.tagclip_classify(c["attn"], c["tokens"], c["text"], grid, C, mine, mode=mode)
    want = ref.classify(c["attn"], c["tokens"], c["text"], grid, C, theirs, mode=mode)
    np.testing.assert_allclose(got["coarse"], want["coarse"], rtol=0, atol=1e-10)
    assert_dmar_equal(got["dmar"], want["dmar"], mode)
    np.testing.assert_allclose(got["local"], want["local"], rtol=0, atol=1e-10)
    assert_cwr_equal(got["cwr"], want["cwr"])
    assert_requests_equal(seen_mine, seen_theirs)
    assert seen_mine


@pytest.mark.parametrize("mode", ref.MODES)
def test_classify_batch_equals_single_images_for_any_thread_count(mode):
    grid = (16, 12)
    cases = [case(2 * s, grid) for s in range(4)]  # class token everywhere
    text = cases[0]["text"]
    engine = ref.fake_global_feature(3, text)
    attn = np.stack([x["attn"] for x in cases])
    tokens = np.stack([x["tokens"] for x in cases])
    images = []
    batch = mlr.tagclip_classify(attn, tokens, text, grid, C, recorded(engine)[0], mode=mode, threads=1)
    for threads in (2, 3):
        again, seen = recorded(engine)
        other = mlr.tagclip_classify(attn.reshape(-1, *attn.shape[2:]), tokens, text, grid, C, again, mode=mode,
                                     threads=threads)
        images.append([r["image"] for r in seen])
        for a, b in zip(batch, other):
            np.testing.assert_array_equal(a["cwr"]["final_scores"], b["cwr"]["final_scores"])
            np.testing.assert_array_equal(a["dmar"]["refined"], b["dmar"]["refined"])
    assert images[0] == sorted(images[0]) and len(set(images[0])) > 1  # (image, candidate) order
    for b, x in enumerate(cases):
        one = mlr.tagclip_classify(x["attn"], x["tokens"], text, grid, C, engine, mode=mode)
        np.testing.assert_array_equal(one["cwr"]["final_scores"], batch[b]["cwr"]["final_scores"])
        assert one["cwr"]["boxes"] == batch[b]["cwr"]["boxes"]


@pytest.mark.parametrize("mode", ref.MODES)
def test_planted_candidates_in_structured_cases(mode):
    """A candidate responsive only in the last row (a degenerate reference box) and one with a
    constant column (no region, box (0, 0, 0, 0), degenerate in both modes), planted among the
    real candidates of a structured case."""
    grid = (20, 20)
    h, w = grid
    c = case(0, grid)
    refined = mlr.tagclip_dmar(c["attn"], c["coarse"], grid, mode=mode)["refined"]
    top = refined.max()
    edge, flat = 3, 11
    refined[:, edge] = 0.01 * top
    refined[(h - 1) * w + 4:(h - 1) * w + 9, edge] = top      # last row, columns 4-8
    refined[:, flat] = 0.9 * top
    local = mlr.tagclip_local(refined, C)
    engine = ref.fake_global_scores(5, 45)
    mine, seen_mine = recorded(engine)
    theirs, seen_theirs = recorded(engine)
    got = mlr.tagclip_reidentify(refined, local, grid, C, mine, mode=mode)
    want = ref.reidentify(refined, local, grid, C, theirs, mode=mode)
    assert_cwr_equal(got, want)
    assert_requests_equal(seen_mine, seen_theirs)
    cands = got["candidates"]
    assert edge in cands and flat in cands and cands[0] < edge
    if mode == "reference":  # stops at the edge candidate: later ones keep P_local
        assert got["boxes"][-1] == (4, h - 1, 9, h - 1) and len(got["boxes"]) == cands.index(edge) + 1
        later = cands[cands.index(edge):]
        np.testing.assert_array_equal(got["final_scores"][later], local[later])
    else:
        assert got["boxes"][cands.index(edge)] == (4, h - 1, 9, h) and got["boxes"][cands.index(flat)] == (0, 0, 0, 0)
        assert got["reidentified"].tolist() == [int(k != flat) for k in cands]
        assert got["final_scores"][flat] == local[flat]


# --- float32 -------------------------------------------------------------------------------------

def gamma(n):
    return n * U32 / (1 - n * U32)


@pytest.mark.parametrize("mode", ref.MODES)
@pytest.mark.parametrize("grid", GRIDS)
def test_float32_within_derived_bounds(grid, mode):
    c = case(0, grid, dtype=np.float32)
    n = grid[0] * grid[1]
    got = mlr.tagclip_dmar(c["attn"], c["coarse"], grid, mode=mode)
    assert got["refined"].dtype == np.float32
    maps = ref.patch_attention(c["attn"], n)
    coarse = c["coarse"].astype(np.float64)
    vote = ref.vote_mask(maps)
    np.testing.assert_array_equal(got["vote_mask"], vote)
    masked = ref.masked_attention(maps, vote)
    assert (np.abs(got["masked_attention"] - masked) <= U32 * masked).all()
    bound = gamma(n) + 2 * U32
    first = masked @ coarse
    assert (np.abs(got["first_refinement"] - first) <= bound * first).all()

    boxes, masks = ref.class_boxes(got["first_refinement"], grid, mode)  # decisions on mlr's own P1
    np.testing.assert_array_equal(got["binary_maps"], ref.binary_maps(got["first_refinement"], mode))
    assert got["boxes"] == boxes
    np.testing.assert_array_equal(got["box_masks"], masks)
    refined = ref.second_refinement(masked, coarse, masks)
    assert (np.abs(got["refined"] - refined) <= bound * refined).all()

    local = mlr.tagclip_local(got["refined"], C)
    np.testing.assert_array_equal(local, got["refined"][:, :C].max(axis=0))
    engine = ref.fake_global_scores(0, 45)
    mine, seen_mine = recorded(engine)
    theirs, seen_theirs = recorded(engine)
    out = mlr.tagclip_reidentify(got["refined"], local, grid, C, mine, mode=mode)
    want = ref.reidentify(got["refined"], local, grid, C, theirs, mode=mode)
    assert out["candidates"] == want["candidates"] and out["boxes"] == want["boxes"]
    assert_requests_equal(seen_mine, seen_theirs)
    assert seen_mine and seen_mine[0]["attention_mask"].dtype == np.float32
    np.testing.assert_array_equal(out["global_scores"], want["global_scores"].astype(np.float32))
    g = np.nan_to_num(want["global_scores"]).max(initial=0)
    assert np.abs(out["final_scores"] - want["final_scores"]).max() <= U32 * want["final_scores"].max() + U32 * g
    np.testing.assert_array_equal(out["labels"], want["labels"])


# --- METHOD.md 6.6 quirk cases, both modes ------------------------------------------------------

U = np.array([[.5, .1, .1, .1, .2, 0], [.1, .6, .1, .05, .1, .05], [.1, .1, .6, .05, .05, .1],
              [.1, .05, .05, .6, .1, .1], [.05, .1, .05, .1, .6, .1], [.05, .05, .1, .1, .1, .6]])
V = np.array([[.3, .3, .1, .2, .05, .05], [.2, .3, .3, .05, .1, .05], [.05, .2, .4, .05, .1, .2],
              [.3, .05, .05, .3, .2, .1], [.05, .2, .05, .2, .3, .2], [.05, .05, .2, .1, .2, .4]])
P_COARSE = np.array([[.7, .1, .2], [.6, .2, .2], [.1, .3, .6], [.5, .1, .4], [.2, .2, .6], [.1, .7, .2]])


@pytest.mark.parametrize("mode, boxes, local, final", [
    ("reference", [[(0, 0, 2, 1)], [(1, 0, 2, 1)], [(0, 0, 2, 1)]], [.39, .06], [.595, .06]),
    ("corrected", [[(0, 0, 2, 2)], [(1, 0, 3, 2)], [(0, 0, 3, 2)]], [.5, .38], [.65, .34])])
def test_method_7_14_dmar_and_cwr(mode, boxes, local, final):
    attn = np.stack([U] * 8 + [V] * 4)
    d = mlr.tagclip_dmar(attn, P_COARSE, (2, 3), mode=mode)
    assert_dmar_equal(d, ref.dmar(attn, P_COARSE, (2, 3), mode=mode), mode, atol=1e-15)
    assert d["boxes"] == boxes
    p_local = mlr.tagclip_local(d["refined"], 2)
    np.testing.assert_allclose(p_local, local, rtol=0, atol=1e-15)
    out = mlr.tagclip_reidentify(d["refined"], p_local, (2, 3), 2, lambda r: [.8, .3, 0], mode=mode)
    np.testing.assert_allclose(out["final_scores"], final, rtol=0, atol=1e-15)


@pytest.mark.parametrize("mode", ref.MODES)
def test_method_7_14_early_abort(mode):
    refined = np.array([[0, .7], [0, .6], [0, .1], [.2, .5], [.9, .1], [.8, .1]])
    local = mlr.tagclip_local(refined, 2)
    mine, seen = recorded(lambda r: [.4, .2])
    out = mlr.tagclip_reidentify(refined, local, (2, 3), 2, mine, mode=mode)
    assert out["candidates"] == [0, 1]
    if mode == "reference":
        assert out["boxes"] == [(1, 1, 2, 1)] and seen == [] and out["reidentified"].tolist() == [0, 0]
        np.testing.assert_array_equal(out["final_scores"], [.9, .7])
        assert np.isnan(out["global_scores"]).all()
    else:
        assert out["boxes"] == [(1, 1, 3, 2), (0, 0, 2, 2)]
        assert seen[0]["token_mask"].all() and (seen[0]["attention_mask"] == 0).all()
        assert (seen[1]["attention_mask"][0] == -1000).sum() == 49 and seen[1]["pixels"] == (0, 0, 32, 32)
        np.testing.assert_allclose(out["final_scores"], [.65, .45], rtol=0, atol=1e-15)


@pytest.mark.parametrize("mode, expected", [("reference", [(3, 1, 4, 3), (0, 0, 1, 1), (4, 3, 4, 3)]),
                                            ("corrected", [(3, 1, 5, 3), (0, 0, 1, 1), (4, 3, 5, 4)])])
def test_regions_in_the_last_row_and_column(mode, expected):
    b = np.zeros((4, 5), np.uint8)
    b[1:3, 3:5] = 1
    assert mlr.region_boxes(b, mode=mode) == expected[:1]  # METHOD.md 7.13
    b[:] = 0
    b[0, 0] = b[3, 4] = 1
    assert mlr.region_boxes(b, mode=mode) == expected[1:]
    assert mlr.region_boxes(b.reshape(-1).astype(bool), grid=(4, 5), mode=mode) == expected[1:]


@pytest.mark.parametrize("mode", ref.MODES)
def test_no_contour_and_enclosed_regions(mode):
    assert mlr.region_boxes(np.zeros((3, 4), np.uint8), mode=mode) == []
    b = np.zeros((7, 7), bool)
    b[1:6, 1:6] = True
    b[2:5, 2:5] = False
    b[3, 3] = True  # inside the ring's hole: no box of its own
    assert mlr.region_boxes(b, mode=mode) == [(1, 1, 6, 6)]
    # The maps of DMAR always have a region (the column maximum passes both thresholds), so a
    # class without contour only arises from a degenerate column (test_degenerate_columns).


@pytest.mark.parametrize("seed", range(40))
def test_region_boxes_random_maps(seed):
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(1, 20)), int(rng.integers(1, 20))
    b = rng.uniform(size=(h, w)) < rng.uniform(0.2, 0.8)
    for mode in ref.MODES:
        want = ref.external_boxes(b, mode)
        assert mlr.region_boxes(b, mode=mode) == want
        assert mlr.region_boxes(b.astype(np.uint8).T.copy().T, mode=mode) == want  # column-major
        assert mlr.region_boxes(b.reshape(-1).astype(np.uint8), grid=(h, w), mode=mode) == want


@pytest.mark.parametrize("mode", ref.MODES)
def test_degenerate_columns(mode):
    # N = 1: every column is constant -> no boxes, zero refined scores (CONVENTIONS 6.30).
    d = mlr.tagclip_dmar(np.ones((12, 2, 2)), np.array([[0.3, 0.7]]), (1, 1), mode=mode)
    assert d["boxes"] == [[], []] and not d["box_masks"].any() and not d["refined"].any()
    out = mlr.tagclip_reidentify(d["refined"], np.array([0.0]), (1, 1), 1, lambda r: [1.0, 0.0], mode=mode)
    assert out["candidates"] == []
    # A constant P1 column next to a varying one: identity attention makes P1 = P_coarse.
    attn = np.stack([np.eye(6)] * 12)
    coarse = np.array([[.5, .1], [.5, .9], [.5, .2], [.5, .3], [.5, .1], [.5, .2]])
    got = mlr.tagclip_dmar(attn, coarse, (2, 3), mode=mode)
    want = ref.dmar(attn, coarse, (2, 3), mode=mode)
    assert_dmar_equal(got, want, mode, atol=0)
    assert got["boxes"][0] == [] and not got["refined"][:, 0].any() and got["boxes"][1]


@pytest.mark.parametrize("mode", ref.MODES)
def test_uint8_truncation(mode):
    """P1 column (identity attention) s = [1, x, 0, 0, 0, 0] with 255 x = 50.9: the truncated
    u = 50 is not above theta = floor(255 (1 + x) / 6) = 50 (rounding would give 51)."""
    attn = np.stack([np.eye(6)] * 12)
    coarse = np.array([[1.0], [50.9 / 255], [0], [0], [0], [0]])
    d = mlr.tagclip_dmar(attn, coarse, (2, 3), mode=mode)
    np.testing.assert_array_equal(d["binary_maps"][0], [1, 0, 0, 0, 0, 0])
    assert d["boxes"] == [[(0, 0, 1, 1)]]
    assert_dmar_equal(d, ref.dmar(attn, coarse, (2, 3), mode=mode), mode, atol=0)


# --- threads, layouts, options ------------------------------------------------------------------

def test_results_do_not_depend_on_threads_or_layout():
    c = case(0, (24, 32))
    one = mlr.tagclip_dmar(c["attn"], c["coarse"], (24, 32), threads=1)
    for threads in (2, 4):
        other = mlr.tagclip_dmar(c["attn"], c["coarse"], (24, 32), threads=threads)
        for name in one:
            if name == "boxes":
                assert one[name] == other[name]
            else:
                np.testing.assert_array_equal(one[name], other[name])
    strided = np.asfortranarray(c["attn"])
    again = mlr.tagclip_dmar(strided, c["coarse"][::-1][::-1], (24, 32))
    np.testing.assert_array_equal(again["refined"], one["refined"])


def test_options_reach_the_computation():
    grid = (16, 12)
    c = case(0, grid)
    layers = tuple(range(11))  # cocostuff's fuse layers
    got = mlr.tagclip_dmar(c["attn"], c["coarse"], grid, vote_min=6, fuse_layers=layers, mode="corrected")
    assert_dmar_equal(got, ref.dmar(c["attn"], c["coarse"], grid, 6, layers, "corrected"), "corrected")
    engine = ref.fake_global_scores(1, 45)
    kw = dict(mu1=0.1, mu2=0.3, mu=0.1, mode="corrected", patch_size=14, crop_grid=16, mask_value=-50.0)
    local = mlr.tagclip_local(got["refined"], C)
    mine, seen_mine = recorded(engine)
    theirs, seen_theirs = recorded(engine)
    assert_cwr_equal(mlr.tagclip_reidentify(got["refined"], local, grid, C, mine, lam=0.3, **kw),
                     ref.reidentify(got["refined"], local, grid, C, theirs, lam=0.3, **kw))
    assert_requests_equal(seen_mine, seen_theirs)
    assert seen_mine[0]["token_mask"].shape == (16, 16) and seen_mine[0]["attention_mask"].shape == (257, 257)


# --- bad input: ValueError with mlr's message ----------------------------------------------------

@pytest.fixture(scope="module")
def small():
    c = ref.structured_case(0, (4, 5))
    d = mlr.tagclip_dmar(c["attn"], c["coarse"], (4, 5))
    return c, d, mlr.tagclip_local(d["refined"], C)


def test_bad_dmar_input(small):
    c, _, _ = small
    a, p = c["attn"], c["coarse"]
    with pytest.raises(ValueError, match=r"attn: expected shape \(L, 1 \+ N, 1 \+ N\) or \(L, N, N\) with N = 20"):
        mlr.tagclip_dmar(a[:, :, :-1], p, (4, 5))
    bad = a.copy()
    bad[3, 5, 7] = -1e-3
    with pytest.raises(ValueError, match=r"attn: expected non-negative finite .* found -0.001 at \(3, 5, 7\)"):
        mlr.tagclip_dmar(bad, p, (4, 5))
    bad[3, 5, 7] = np.nan
    with pytest.raises(ValueError, match=r"attn: .* found nan at \(3, 5, 7\)"):
        mlr.tagclip_dmar(bad, p, (4, 5))
    with pytest.raises(ValueError, match="N = 25 patches of the 5 x 5 grid"):
        mlr.tagclip_dmar(a, p, (5, 5))
    with pytest.raises(ValueError, match=r"fuse_layers: expected layers in \[0, 12\)"):
        mlr.tagclip_dmar(a, p, (4, 5), fuse_layers=(8, 12))
    with pytest.raises(ValueError, match="fuse_layers: expected distinct layers, found 8 twice"):
        mlr.tagclip_dmar(a, p, (4, 5), fuse_layers=[8, 8])
    with pytest.raises(ValueError, match="fuse_layers: expected at least one layer"):
        mlr.tagclip_dmar(a, p, (4, 5), fuse_layers=())
    with pytest.raises(ValueError, match="fuse_layers: expected a sequence of integer"):
        mlr.tagclip_dmar(a, p, (4, 5), fuse_layers="abc")
    for vote_min in (0, 13):
        with pytest.raises(ValueError, match=r"vote_min: expected a value in \[1, 12\]"):
            mlr.tagclip_dmar(a, p, (4, 5), vote_min=vote_min)
    with pytest.raises(ValueError, match=r"coarse: expected shape \(20, 45\)"):
        mlr.tagclip_dmar(a, p[:-1], (4, 5))
    with pytest.raises(ValueError, match="coarse: expected dtype float64 \\(that of attn\\), found float32"):
        mlr.tagclip_dmar(a, p.astype(np.float32), (4, 5))
    with pytest.raises(ValueError, match="mode: expected one of reference, corrected"):
        mlr.tagclip_dmar(a, p, (4, 5), mode="fixed")
    with pytest.raises(ValueError, match=r"grid: expected a pair of integers \(rows, cols\)"):
        mlr.tagclip_dmar(a, p, "4x5")


def test_bad_local_and_cwr_input(small):
    _, d, local = small
    r = d["refined"]
    with pytest.raises(ValueError, match=r"num_foreground: expected a value in \[1, K\] = \[1, 45\], found 46"):
        mlr.tagclip_local(r, 46)
    with pytest.raises(ValueError, match=r"num_foreground: expected a value in \[1, K = 45\]"):
        mlr.tagclip_reidentify(r, local, (4, 5), 46, lambda q: np.zeros(45))
    with pytest.raises(ValueError, match=r"local: expected shape \(19,\)"):
        mlr.tagclip_reidentify(r, local, (4, 5), 19, lambda q: np.zeros(45))
    with pytest.raises(ValueError, match=r"mu1: expected a value in \[0, 1\], found 1.5"):
        mlr.tagclip_reidentify(r, local, (4, 5), C, lambda q: np.zeros(45), mu1=1.5)
    with pytest.raises(ValueError, match="lambda: expected a value in"):
        mlr.tagclip_reidentify(r, local, (4, 5), C, lambda q: np.zeros(45), lam=-0.5)


def test_bad_engine_output(small):
    _, d, local = small
    r = d["refined"]
    first = mlr.tagclip_reidentify(r, local, (4, 5), C, lambda q: np.zeros(45))["candidates"][0]
    with pytest.raises(ValueError, match=f"global_scores: expected probabilities in .* found nan at entry 0 for "
                                         f"class {first}"):
        mlr.tagclip_reidentify(r, local, (4, 5), C, lambda q: np.full(45, np.nan))
    with pytest.raises(ValueError, match="found 1.5 at entry 3"):
        mlr.tagclip_reidentify(r, local, (4, 5), C, lambda q: np.where(np.arange(45) == 3, 1.5, 0.0))
    with pytest.raises(ValueError, match=rf"global_scores: expected 45 probabilities .* found shape \(44,\)"):
        mlr.tagclip_reidentify(r, local, (4, 5), C, lambda q: np.zeros(44))
    with pytest.raises(ValueError, match="global_scores: expected 45 probabilities .* found 'abc'"):
        mlr.tagclip_reidentify(r, local, (4, 5), C, lambda q: "abc")
    with pytest.raises(ZeroDivisionError):  # the engine's own exception passes through
        mlr.tagclip_reidentify(r, local, (4, 5), C, lambda q: 1 / 0)


def test_bad_classify_input(small):
    c, _, _ = small
    text = c["text"]
    with pytest.raises(ValueError, match=r"num_foreground: expected a value in \[1, K = 45\] \(K = text rows\)"):
        mlr.tagclip_classify(c["attn"], c["tokens"], text, (4, 5), 46, lambda q: text[0])
    with pytest.raises(ValueError, match=r"tokens: expected shape \(1 \+ N, D\) or \(N, D\)"):
        mlr.tagclip_classify(c["attn"], c["tokens"][:-2], text, (4, 5), C, lambda q: text[0])
    with pytest.raises(ValueError, match="global_feature: expected a feature of non-zero norm"):
        mlr.tagclip_classify(c["attn"], c["tokens"], text, (4, 5), C, lambda q: np.zeros(64))
    with pytest.raises(ValueError, match="global_feature: expected 64 feature values"):
        mlr.tagclip_classify(c["attn"], c["tokens"], text, (4, 5), C, lambda q: np.zeros(3))
    bad = np.stack([c["attn"], c["attn"]])
    bad[1, 0, 2, 3] = -1.0
    with pytest.raises(ValueError, match="image 1: attn"):
        mlr.tagclip_classify(bad, np.stack([c["tokens"]] * 2), text, (4, 5), C, lambda q: text[q["class_index"]])


def test_bad_region_boxes_input():
    with pytest.raises(ValueError, match="binary: expected a 2-D map"):
        mlr.region_boxes(np.zeros((3, 4, 2), np.uint8))
    with pytest.raises(ValueError, match="binary: expected dtype uint8 or bool, found float64"):
        mlr.region_boxes(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="grid: required for a 1-D binary map"):
        mlr.region_boxes(np.zeros(12, np.uint8))
    with pytest.raises(ValueError, match="grid: 3 x 5 = 15 patches, but binary has 12"):
        mlr.region_boxes(np.zeros(12, np.uint8), grid=(3, 5))
    with pytest.raises(ValueError, match=r"binary: expected shape \(4, 3\)"):
        mlr.region_boxes(np.zeros((3, 4), np.uint8), grid=(4, 3))
