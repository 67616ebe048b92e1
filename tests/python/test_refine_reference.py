"""The TagCLIP refinement reference tests/reference/tagclip_refine.py checked on its own: the worked
vectors of METHOD.md 7.12-7.14, the nearest-resize rule against torch, and the region-box rule
(8-connectivity, enclosed components dropped) against a brute-force flood fill on small maps."""

import itertools

import numpy as np
import pytest
import torch

import tagclip_refine as ref

# METHOD.md 7.14
U = np.array([[.5, .1, .1, .1, .2, 0], [.1, .6, .1, .05, .1, .05], [.1, .1, .6, .05, .05, .1],
              [.1, .05, .05, .6, .1, .1], [.05, .1, .05, .1, .6, .1], [.05, .05, .1, .1, .1, .6]])
V = np.array([[.3, .3, .1, .2, .05, .05], [.2, .3, .3, .05, .1, .05], [.05, .2, .4, .05, .1, .2],
              [.3, .05, .05, .3, .2, .1], [.05, .2, .05, .2, .3, .2], [.05, .05, .2, .1, .2, .4]])
P_COARSE = np.array([[.7, .1, .2], [.6, .2, .2], [.1, .3, .6], [.5, .1, .4], [.2, .2, .6], [.1, .7, .2]])
ATTN_7_14 = np.stack([U] * 8 + [V] * 4)


def fixed_global(values):
    """A global-score callback returning g[k] for the candidate k (METHOD gives g per class)."""
    return lambda request: np.asarray(values, dtype=float)


def test_method_7_12_relative_labels():
    s = np.array([[.9, .8, .1, .05], [.2, .7, .6, .1], [.3, .3, .3, .3]])
    assert [ref.relative_labels(row).tolist() for row in s] == [[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 0, 0]]


@pytest.mark.parametrize("mode, expected", [("reference", [(3, 1, 4, 3)]), ("corrected", [(3, 1, 5, 3)])])
def test_method_7_13_region_in_last_columns(mode, expected):
    b = np.zeros((4, 5), bool)
    b[1:3, 3:5] = True
    assert ref.external_boxes(b, mode) == expected
    column = b.reshape(-1).astype(float)  # a min-max map: 1 on the region, 0 elsewhere
    np.testing.assert_array_equal(ref.binary_maps(column[:, None], mode)[0], b.reshape(-1))
    mask = ref.box_mask(expected, (4, 5)).reshape(4, 5)
    assert mask.sum() == (2 if mode == "reference" else 4) and mask[1:3, 3].all()


@pytest.mark.parametrize("mode, expected", [("reference", [(0, 0, 1, 1), (4, 3, 4, 3)]),
                                            ("corrected", [(0, 0, 1, 1), (4, 3, 5, 4)])])
def test_method_7_13_single_pixels(mode, expected):
    b = np.zeros((4, 5), bool)
    b[0, 0] = b[3, 4] = True
    assert ref.external_boxes(b, mode) == expected


def test_method_7_13_uint8_truncation():
    assert np.floor(255 * 0.999) == 254
    # s = [0, 1, x] with 255 x = 127.9: u = 127 is not above theta = floor(255 (1 + x) / 3) = 127
    # (rounding would give 128 > 127); the corrected rule s > mean(s) keeps it.
    column = np.array([[0.0], [1.0], [127.9 / 255]])
    assert ref.binary_maps(column, "reference")[0].tolist() == [False, True, False]
    assert ref.binary_maps(column, "corrected")[0].tolist() == [False, True, True]


def test_method_7_13_nearest_resize():
    assert ref.nearest_indices(5, 14).tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4]
    assert ref.nearest_indices(62, 14)[7] == 30  # float32: not floor(7 * 62 / 14) = 31
    for size in range(1, 62):  # floor(d * in / out) up to 61 (METHOD 2.8 step 5)
        assert ref.nearest_indices(size, 14).tolist() == (np.arange(14) * size // 14).tolist()


@pytest.mark.parametrize("size_in", list(range(1, 130)) + [200, 255, 511, 997])
def test_nearest_rule_is_torchs(size_in):
    x = torch.arange(size_in, dtype=torch.float32).reshape(1, 1, size_in, 1)
    y = torch.nn.functional.interpolate(x, size=(14, 1), mode="nearest")
    assert y.reshape(-1).long().tolist() == ref.nearest_indices(size_in, 14).tolist()


def test_method_7_13_cwr_region():
    column = np.zeros(24)
    for row, col in [(1, 2), (1, 3), (2, 4)]:
        column[row * 6 + col] = 1.0
    region = ref.cwr_region(column, (4, 6))
    for mode in ref.MODES:
        assert ref.cwr_box(region, mode) == (2, 1, 5, 3)
    tokens = ref.token_mask(region, (2, 1, 5, 3))
    expected = np.zeros((14, 14), np.uint8)
    expected[:7, :10] = 1
    expected[7:, 10:] = 1
    np.testing.assert_array_equal(tokens, expected)
    g = ref.attention_mask(tokens)
    assert g.shape == (197, 197) and (g[0] == -1000).sum() == 98 and (g[1:] == 0).all() and g[0, 0] == 0

    seen = []
    out = ref.reidentify(column[:, None], [1.0], (4, 6), 1, lambda r: seen.append(r) or [1.0])
    assert out["candidates"] == [0] and out["boxes"] == [(2, 1, 5, 3)]
    assert seen[0]["pixels"] == (32, 16, 80, 48)  # rows [16, 48), columns [32, 80)


def test_method_7_14_dmar_reference():
    d = ref.dmar(ATTN_7_14, P_COARSE, (2, 3), mode="reference")
    np.testing.assert_array_equal(d["vote_mask"], [[1, 1, 0, 1, 1, 0], [1, 1, 1, 0, 0, 0], [0, 1, 1, 0, 0, 1],
                                                   [1, 0, 0, 1, 1, 0], [0, 1, 0, 1, 1, 1], [0, 0, 1, 0, 1, 1]])
    np.testing.assert_allclose(d["first_refinement"], [[.5, .12, .23], [.35, .17, .28], [.18, .3, .32],
                                                       [.4, .1, .3], [.3, .26, .34], [.1, .38, .32]], atol=1e-15)
    for mode in ref.MODES:
        np.testing.assert_array_equal(ref.binary_maps(d["first_refinement"], mode),
                                      [[1, 1, 0, 1, 0, 0], [0, 0, 1, 0, 1, 1], [0, 0, 1, 1, 1, 1]])
    assert d["boxes"] == [[(0, 0, 2, 1)], [(1, 0, 2, 1)], [(0, 0, 2, 1)]]
    np.testing.assert_array_equal(d["box_masks"], [[1, 1, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0]])
    np.testing.assert_allclose(d["refined"], [[.39, .06, .12], [.32, .06, .1], [.12, .04, .04], [.21, 0, .06],
                                              [.12, .04, .04], [0, 0, 0]], atol=1e-15)
    local = ref.local_scores(d["refined"], 2)
    np.testing.assert_allclose(local, [.39, .06], atol=1e-15)
    out = ref.reidentify(d["refined"], local, (2, 3), 2, fixed_global([.8, .3, 0]), mode="reference")
    assert out["candidates"] == [0] and out["boxes"] == [(0, 0, 2, 1)]
    np.testing.assert_allclose(out["final_scores"], [.595, .06], atol=1e-15)
    assert out["labels"].tolist() == [1, 0]


def test_method_7_14_dmar_corrected():
    d = ref.dmar(ATTN_7_14, P_COARSE, (2, 3), mode="corrected")
    assert d["boxes"] == [[(0, 0, 2, 2)], [(1, 0, 3, 2)], [(0, 0, 3, 2)]]
    np.testing.assert_allclose(d["refined"], [[.5, .07, .23], [.32, .15, .28], [.12, .3, .32], [.4, .04, .3],
                                              [.28, .24, .34], [.04, .38, .32]], atol=1e-15)
    local = ref.local_scores(d["refined"], 2)
    np.testing.assert_allclose(local, [.5, .38], atol=1e-15)
    out = ref.reidentify(d["refined"], local, (2, 3), 2, fixed_global([.8, .3, 0]), mode="corrected")
    assert out["candidates"] == [0, 1] and out["boxes"] == [(0, 0, 2, 2), (1, 0, 3, 2)]
    np.testing.assert_allclose(out["final_scores"], [.65, .34], atol=1e-15)


def test_method_7_14_early_abort():
    refined = np.array([[0, .7], [0, .6], [0, .1], [.2, .5], [.9, .1], [.8, .1]])
    local = ref.local_scores(refined, 2)
    out = ref.reidentify(refined, local, (2, 3), 2, fixed_global([.4, .2]), mode="reference")
    assert out["candidates"] == [0, 1] and out["boxes"] == [(1, 1, 2, 1)]
    assert out["reidentified"].tolist() == [0, 0] and out["requests"] == []
    np.testing.assert_array_equal(out["final_scores"], [.9, .7])
    out = ref.reidentify(refined, local, (2, 3), 2, fixed_global([.4, .2]), mode="corrected")
    assert out["boxes"] == [(1, 1, 3, 2), (0, 0, 2, 2)] and out["reidentified"].tolist() == [1, 1]
    first, second = out["requests"]
    assert first["token_mask"].all() and (first["attention_mask"] == 0).all()
    expected = np.ones((14, 14), np.uint8)
    expected[7:, 7:] = 0  # the cropped mask [[1, 1], [1, 0]]
    np.testing.assert_array_equal(second["token_mask"], expected)
    assert (second["attention_mask"][0] == -1000).sum() == 49
    np.testing.assert_allclose(out["final_scores"], [.65, .45], atol=1e-15)


def test_degenerate_maps_give_no_boxes():
    d = ref.dmar(np.ones((12, 1, 1)), np.array([[0.3, 0.7]]), (1, 1), mode="reference")  # N = 1
    assert d["boxes"] == [[], []] and not d["box_masks"].any() and not d["refined"].any()
    coarse = np.array([[.5, .2], [.5, .3], [.5, .5]])  # column 0 constant in P1 for a uniform A*
    d = ref.dmar(np.full((12, 3, 3), 1 / 3), coarse, (1, 3), vote_min=1)
    assert d["boxes"][0] == [] and not d["refined"][:, 0].any()


def test_enclosed_component_gets_no_box():
    b = np.zeros((7, 7), bool)
    b[1:6, 1:6] = True
    b[2:5, 2:5] = False  # a ring with a hole ...
    b[3, 3] = True       # ... holding one pixel
    for mode in ref.MODES:
        boxes = ref.external_boxes(b, mode)
        assert boxes == [(1, 1, 6, 6)]
    b[2, 2] = True  # the pixel's diagonal neighbour joins the ring: one component
    assert ref.external_boxes(b, "corrected") == [(1, 1, 6, 6)]


def brute_external_boxes(b, mode):
    """Flood fills, one pixel at a time: components (8-neighbours), outer background (4-neighbours
    of the zero-padded map), then the components touching it."""
    h, w = b.shape
    padded = np.pad(b, 1)
    outer, stack = {(0, 0)}, [(0, 0)]
    while stack:
        y, x = stack.pop()
        for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            q = (y + dy, x + dx)
            if 0 <= q[0] < h + 2 and 0 <= q[1] < w + 2 and not padded[q] and q not in outer:
                outer.add(q)
                stack.append(q)
    seen, boxes = set(), []
    for start in itertools.product(range(h), range(w)):
        if not b[start] or start in seen:
            continue
        comp, stack = [start], [start]
        seen.add(start)
        while stack:
            y, x = stack.pop()
            for dy, dx in itertools.product((-1, 0, 1), repeat=2):
                q = (y + dy, x + dx)
                if 0 <= q[0] < h and 0 <= q[1] < w and b[q] and q not in seen:
                    seen.add(q)
                    comp.append(q)
                    stack.append(q)
        touches = any((y + 1 + dy, x + 1 + dx) in outer for y, x in comp for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)))
        if touches:
            ys, xs = zip(*comp)
            x1, y1 = max(xs) + 1, max(ys) + 1
            if mode == "reference":
                x1, y1 = min(x1, w - 1), min(y1, h - 1)
            boxes.append((min(xs), min(ys), x1, y1))
    return boxes


@pytest.mark.parametrize("seed", range(60))
def test_region_boxes_match_brute_force(seed):
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(1, 14)), int(rng.integers(1, 14))
    b = rng.uniform(size=(h, w)) < rng.uniform(0.2, 0.7)
    for mode in ref.MODES:
        assert ref.external_boxes(b, mode) == brute_external_boxes(b, mode)


@pytest.mark.parametrize("grid", [(16, 12), (24, 32), (20, 20)])
def test_structured_case_shapes(grid):
    case = ref.structured_case(0, grid)
    n = grid[0] * grid[1]
    assert case["attn"].shape == (12, n + 1, n + 1) and case["coarse"].shape == (n, 45)
    assert (case["attn"] >= 0).all()
    np.testing.assert_allclose(case["attn"].sum(-1), 1.0, atol=1e-12)
    np.testing.assert_allclose(case["coarse"].sum(-1), 1.0, atol=1e-12)
