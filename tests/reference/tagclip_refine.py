"""TagCLIP refinement in numpy, written from METHOD.md section 2 (not from mlr's code, nor from the
official TagCLIP or OpenCV code).

An independent reference for the tests of the Python module and for bench/refine:

* DMAR (2.1-2.6): the class token is dropped when the maps are [L, 1+N, 1+N]; the per-layer mean
  tau_l of all N^2 entries (float64), the strict vote over every layer, count >= vote_min; the
  mean of the fuse layers times the vote mask; P1 = A* P_coarse.
* Class box masks (2.5): min-max of each P1 column in float64; 'reference' binarises the uint8
  truncation u = floor(255 s) at floor(mean(s) max(u)), 'corrected' takes s > mean(s). A constant
  column (N = 1 included) gives an empty mask and no boxes, in both modes (CONVENTIONS 6.30).
* Region boxes: 8-connected components found by min-label propagation (each component ends up
  labelled with the raster index of its first pixel, which is also the order of the list). A
  component gets a box only when it touches the zero region 4-connected to the zero-padded border
  (what RETR_EXTERNAL reports): components inside a hole of another get none. 'reference' clips
  the exclusive ends to W' - 1 and H' - 1. The masks are the union of the half-open boxes.
* P2[:, k] = A* (m_k * P_coarse[:, k]); P_local = max over patches of the first C columns.
* CWR (2.8-2.9): theta_1 over the whole N x K P2, candidates in increasing class index; one box
  around min-max(P2[:, k]) > mu2; the crop resized to crop_grid^2 by PyTorch's nearest rule in
  float32; the additive mask with mask_value in row 0; 'reference' stops at the first degenerate
  box, 'corrected' skips it; fusion lam P_local + (1 - lam) g.
* Labels (2.10): P_final > min + mu (max - min), strict.

Every function works on 2-D numpy arrays (one image); `structured_case` makes seeded inputs with
planted structure (attention blocks, class regions) for the parity tests and the benchmark.
"""

import numpy as np

MODES = ("reference", "corrected")
FUSE_LAYERS = (8, 9, 10)


# --- DMAR ---------------------------------------------------------------------------------------

def patch_attention(attn, n):
    """[L, 1+N, 1+N] or [L, N, N] -> the patch-to-patch maps [L, N, N] (float64)."""
    a = np.asarray(attn, dtype=np.float64)
    if a.shape[1:] == (n + 1, n + 1):
        a = a[:, 1:, 1:]
    if a.shape[1:] != (n, n):
        raise ValueError(f"attn: expected [L, {n + 1}, {n + 1}] or [L, {n}, {n}], found {a.shape}")
    return a


def vote_mask(maps, vote_min=4):
    """M_attn [N, N] uint8: entries above their layer's mean in at least vote_min layers."""
    tau = maps.mean(axis=(1, 2))
    votes = (maps > tau[:, None, None]).sum(axis=0)
    return (votes >= vote_min).astype(np.uint8)


def masked_attention(maps, vote, fuse_layers=FUSE_LAYERS):
    """A* = mean of the fuse layers, times the vote mask."""
    return maps[list(fuse_layers)].mean(axis=0) * vote


def binary_maps(first, mode):
    """The binarised min-max maps of the P1 columns: bool [K, N]; a constant column is all False."""
    p = np.asarray(first, dtype=np.float64).T
    lo = p.min(axis=1, keepdims=True)
    hi = p.max(axis=1, keepdims=True)
    constant = (hi == lo)[:, 0]
    span = np.where(hi > lo, hi - lo, 1.0)
    s = (p - lo) / span
    mean = s.mean(axis=1, keepdims=True)
    if mode == "reference":
        u = np.floor(255.0 * s)
        theta = np.floor(mean * u.max(axis=1, keepdims=True))
        b = u > theta
    else:
        b = s > mean
    b[constant] = False
    return b


def _shifted(padded, dy, dx, h, w):
    return padded[..., 1 + dy:1 + dy + h, 1 + dx:1 + dx + w]


_RING8 = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)]
_RING4 = [(-1, 0), (1, 0), (0, -1), (0, 1)]


def components(binary):
    """8-connected components of bool maps [..., H, W]: int labels, each component labelled with
    the raster index (row * W + column) of its first pixel; -1 off the components."""
    h, w = binary.shape[-2:]
    none = h * w
    label = np.where(binary, np.arange(h * w).reshape(h, w), none)
    while True:
        padded = np.pad(label, [(0, 0)] * (label.ndim - 2) + [(1, 1), (1, 1)], constant_values=none)
        smallest = label.copy()
        for dy, dx in _RING8:
            np.minimum(smallest, _shifted(padded, dy, dx, h, w), out=smallest)
        smallest = np.where(binary, smallest, none)
        if np.array_equal(smallest, label):
            return np.where(binary, label, -1)
        label = smallest


def outer_background(binary):
    """The zero pixels 4-connected to the zero-padded border, as bool maps [..., H + 2, W + 2]
    (padding included)."""
    zero = np.pad(~binary, [(0, 0)] * (binary.ndim - 2) + [(1, 1), (1, 1)], constant_values=True)
    reach = np.zeros_like(zero)
    reach[..., 0, :] = reach[..., -1, :] = reach[..., :, 0] = reach[..., :, -1] = True
    h, w = zero.shape[-2:]
    while True:
        padded = np.pad(reach, [(0, 0)] * (reach.ndim - 2) + [(1, 1), (1, 1)], constant_values=False)
        grown = reach.copy()
        for dy, dx in _RING4:
            grown |= _shifted(padded, dy, dx, h, w)
        grown &= zero
        if np.array_equal(grown, reach):
            return reach
        reach = grown


def external_boxes(binary, mode):
    """Boxes (x0, y0, x1, y1), half-open, of the externally visible 8-connected components of one
    bool map [H, W], in the order of each component's first raster pixel."""
    h, w = binary.shape
    label = components(binary)
    outer = outer_background(binary)
    touches = np.zeros((h, w), bool)  # a component pixel 4-adjacent to the outer background
    for dy, dx in _RING4:
        touches |= _shifted(outer, dy, dx, h, w)
    touches &= binary
    boxes = []
    for first in np.unique(label[label >= 0]):
        if not touches[label == first].any():
            continue  # enclosed in a hole of another component
        ys, xs = np.nonzero(label == first)
        x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
        if mode == "reference":
            x1, y1 = min(x1, w - 1), min(y1, h - 1)
        boxes.append((int(x0), int(y0), int(x1), int(y1)))
    return boxes


def box_mask(boxes, grid):
    """The union of half-open boxes as uint8 [N] (row-major)."""
    h, w = grid
    m = np.zeros((h, w), np.uint8)
    for x0, y0, x1, y1 in boxes:
        m[y0:y1, x0:x1] = 1
    return m.reshape(-1)


def class_boxes(first, grid, mode):
    """Per class: the region boxes of its binarised P1 column, and the box masks [K, N]."""
    h, w = grid
    maps = binary_maps(first, mode).reshape(-1, h, w)
    boxes = [external_boxes(b, mode) for b in maps]
    masks = np.stack([box_mask(b, grid) for b in boxes]) if boxes else np.zeros((0, h * w), np.uint8)
    return boxes, masks


def second_refinement(masked, coarse, masks):
    """P2[:, k] = A* (m_k * P_coarse[:, k]), all k in one product."""
    return masked @ (masks.T * np.asarray(coarse, dtype=np.float64))


def dmar(attn, coarse, grid, vote_min=4, fuse_layers=FUSE_LAYERS, mode="reference"):
    """Every DMAR intermediate, as a dict with the names of mlr's dmar_result."""
    p = np.asarray(coarse, dtype=np.float64)
    maps = patch_attention(attn, p.shape[0])
    vote = vote_mask(maps, vote_min)
    masked = masked_attention(maps, vote, fuse_layers)
    first = masked @ p
    boxes, masks = class_boxes(first, grid, mode)
    return dict(vote_mask=vote, masked_attention=masked, first_refinement=first, box_masks=masks, boxes=boxes,
                refined=second_refinement(masked, p, masks))


def local_scores(refined, num_foreground):
    return np.asarray(refined, dtype=np.float64)[:, :num_foreground].max(axis=0)


# --- CWR ----------------------------------------------------------------------------------------

def candidates(refined, local, mu1=0.5):
    """Foreground classes whose local score exceeds min P2 + mu1 (max P2 - min P2), in order."""
    r = np.asarray(refined, dtype=np.float64)
    theta = r.min() + mu1 * (r.max() - r.min())
    return [k for k in range(len(local)) if local[k] > theta]


def cwr_region(column, grid, mu2=0.5):
    """bool [H, W]: min-max(P2[:, k]) > mu2; a constant column responds nowhere."""
    c = np.asarray(column, dtype=np.float64)
    lo, hi = c.min(), c.max()
    if hi == lo:
        return np.zeros(grid, bool)
    return ((c - lo) / (hi - lo) > mu2).reshape(grid)


def cwr_box(region, mode):
    """(x0, y0, x1, y1): one half-open box around every responsive patch; (0, 0, 0, 0) if none."""
    h, w = region.shape
    ys, xs = np.nonzero(region)
    if len(ys) == 0:
        return (0, 0, 0, 0)
    x1, y1 = int(xs.max()) + 1, int(ys.max()) + 1
    if mode == "reference":
        x1, y1 = min(x1, w - 1), min(y1, h - 1)
    return (int(xs.min()), int(ys.min()), x1, y1)


def nearest_indices(size_in, size_out):
    """PyTorch's 'nearest' source index of each destination index: min(floor(d * scale), in - 1)
    with scale = in / out and the product rounded to float32."""
    scale = np.float32(size_in) / np.float32(size_out)
    d = np.arange(size_out, dtype=np.float32)
    return np.minimum(np.floor(d * scale).astype(np.int64), size_in - 1)


def token_mask(region, box, crop_grid=14):
    """The crop region[y0:y1, x0:x1] resized to crop_grid x crop_grid (nearest), uint8."""
    x0, y0, x1, y1 = box
    crop = region[y0:y1, x0:x1]
    rows = nearest_indices(y1 - y0, crop_grid)
    cols = nearest_indices(x1 - x0, crop_grid)
    return crop[np.ix_(rows, cols)].astype(np.uint8)


def attention_mask(tokens, mask_value=-1000.0):
    """[1 + T, 1 + T]: zero except row 0 = mask_value at the dropped tokens (class token kept)."""
    flat = tokens.reshape(-1)
    g = np.zeros((1 + flat.size, 1 + flat.size))
    g[0, 1:][flat == 0] = mask_value
    return g


def reidentify(refined, local, grid, num_foreground, global_scores, mu1=0.5, mu2=0.5, lam=0.5, mu=0.5,
               mode="reference", patch_size=16, crop_grid=14, mask_value=-1000.0):
    """CWR and fusion for one image. global_scores(request) -> K probabilities, where request is a
    dict: class_index, box, pixels, token_mask, attention_mask. Returns a dict with the names of
    mlr's cwr_result plus `requests` (those passed to global_scores, in order)."""
    r = np.asarray(refined, dtype=np.float64)
    local = np.asarray(local, dtype=np.float64)
    k_all = r.shape[1]
    cands = candidates(r, local[:num_foreground], mu1)
    final = local[:num_foreground].copy()
    boxes, requests = [], []
    reidentified = np.zeros(len(cands), np.uint8)
    glob = np.full((len(cands), k_all), np.nan)
    for i, k in enumerate(cands):
        region = cwr_region(r[:, k], grid, mu2)
        box = cwr_box(region, mode)
        boxes.append(box)
        if box[0] == box[2] or box[1] == box[3]:
            if mode == "reference":
                break
            continue
        tokens = token_mask(region, box, crop_grid)
        request = dict(class_index=k, box=box, pixels=tuple(v * patch_size for v in box), token_mask=tokens,
                       attention_mask=attention_mask(tokens, mask_value))
        requests.append(request)
        glob[i] = np.asarray(global_scores(request), dtype=np.float64)
        final[k] = lam * local[k] + (1 - lam) * glob[i, k]
        reidentified[i] = 1
    return dict(final_scores=final, candidates=cands, boxes=boxes, reidentified=reidentified, global_scores=glob,
                labels=relative_labels(final, mu), requests=requests)


def relative_labels(scores, mu=0.5):
    s = np.asarray(scores, dtype=np.float64)
    return (s > s.min() + mu * (s.max() - s.min())).astype(np.uint8)


# --- The whole pipeline -------------------------------------------------------------------------

def unit_rows(x):
    x = np.asarray(x, dtype=np.float64)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def softmax_rows(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def coarse_scores(tokens, text, logit_scale=100.0):
    """METHOD 1.3.4 on patch tokens [N, D] (class token already dropped)."""
    return softmax_rows(logit_scale * unit_rows(tokens) @ unit_rows(text).T)


def classify(attn, tokens, text, grid, num_foreground, global_feature, logit_scale=100.0, vote_min=4,
             fuse_layers=FUSE_LAYERS, mu1=0.5, mu2=0.5, lam=0.5, mu=0.5, mode="reference", patch_size=16,
             crop_grid=14, mask_value=-1000.0):
    """Coarse scores, DMAR, local scores and CWR, where global_feature(request) returns the class
    token feature [D] of the second pass (normalised and scored against text here)."""
    n = grid[0] * grid[1]
    z = np.asarray(tokens, dtype=np.float64)
    coarse = coarse_scores(z[-n:], text, logit_scale)
    d = dmar(attn, coarse, grid, vote_min, fuse_layers, mode)
    local = local_scores(d["refined"], num_foreground)

    def global_scores(request):
        return softmax_rows(logit_scale * unit_rows(global_feature(request)) @ unit_rows(text).T)

    cwr = reidentify(d["refined"], local, grid, num_foreground, global_scores, mu1, mu2, lam, mu, mode, patch_size,
                     crop_grid, mask_value)
    return dict(coarse=coarse, dmar=d, local=local, cwr=cwr)


# --- Seeded structured inputs -------------------------------------------------------------------

def structured_case(seed, grid, num_classes=45, num_foreground=20, layers=12, dim=64, dtype=np.float64,
                    class_token=True):
    """One image's engine outputs with planted structure, as a dict:

    * owner [H, W]: the class of each patch: two background words split the image (top and bottom),
      then 2-4 foreground rectangles, one of them touching the last row or column;
    * tokens [1+N, D] (class token first): a shared direction + the owner's text embedding + noise,
      scaled like CLIP (cosines about 0.2-0.35 with the text rows);
    * text [K, D] unit rows; coarse [N, K] = softmax of 100 * cosine (METHOD 1.3.4);
    * attn [L, 1+N, 1+N] (or [L, N, N]): rows of a softmax whose logits add a per-layer bonus for
      patches of the same region, a bonus for near patches and noise; non-negative, rows sum to 1.
    Arrays are of `dtype` (coarse is computed in float64 from the rounded tokens, then rounded).
    """
    rng = np.random.default_rng(seed)
    h, w = grid
    n = h * w
    text = unit_rows(rng.normal(size=(num_classes, dim)))
    owner = np.empty((h, w), np.int64)
    background = rng.choice(np.arange(num_foreground, num_classes), size=2, replace=False)
    split = int(rng.integers(1, h)) if h > 1 else 1
    owner[:split], owner[split:] = background
    objects = rng.choice(num_foreground, size=int(rng.integers(2, 5)), replace=False)
    for i, c in enumerate(objects):
        rh = int(rng.integers(1, max(2, h // 2) + 1))
        rw = int(rng.integers(1, max(2, w // 2) + 1))
        y0 = int(rng.integers(0, h - rh + 1))
        x0 = int(rng.integers(0, w - rw + 1))
        if i == 0:  # at the bottom or right edge: what the reference-mode clipping cuts off
            if rng.uniform() < 0.5:
                y0 = h - rh
            else:
                x0 = w - rw
        owner[y0:y0 + rh, x0:x0 + rw] = c
    flat = owner.reshape(-1)

    common = unit_rows(rng.normal(size=dim))
    patches = 0.9 * common + 0.35 * text[flat] + 0.12 * rng.normal(size=(n, dim)) / np.sqrt(dim) * 4
    cls = common + 0.1 * rng.normal(size=dim)
    tokens = np.vstack([cls, patches]).astype(dtype)
    coarse = coarse_scores(tokens[1:], text.astype(dtype)).astype(dtype)

    ys, xs = np.divmod(np.arange(n), w)
    distance = np.hypot(ys[:, None] - ys[None, :], xs[:, None] - xs[None, :])
    same = (flat[:, None] == flat[None, :]).astype(np.float64)
    attn = np.empty((layers, n + 1, n + 1))
    for layer in range(layers):
        logits = np.empty((n + 1, n + 1))
        region_bonus = rng.uniform(0.5, 3.0)
        near_bonus = rng.uniform(0.0, 1.5)
        logits[1:, 1:] = region_bonus * same - near_bonus * distance / max(h, w) + 0.6 * rng.normal(size=(n, n))
        logits[1:, 1:][np.diag_indices(n)] += rng.uniform(1.0, 4.0)
        logits[0, :] = 0.3 * rng.normal(size=n + 1)
        logits[1:, 0] = rng.uniform(0.5, 2.5) + 0.3 * rng.normal(size=n)  # the class-token column
        attn[layer] = softmax_rows(logits)
    if not class_token:
        attn = attn[:, 1:, 1:]
        tokens = tokens[1:]
    return dict(attn=attn.astype(dtype), coarse=coarse, tokens=tokens, text=text.astype(dtype), owner=owner,
                grid=(h, w), num_foreground=num_foreground)


def fake_global_scores(seed, num_classes, dim=8):
    """A deterministic stand-in for the second CLIP pass: probabilities [K] that depend on every
    field of the request, so a wrong box or mask changes the fused scores."""
    weights = np.random.default_rng(seed).normal(size=(num_classes, dim))

    def global_scores(request):
        m = request["token_mask"].astype(np.float64)
        features = np.array([request["class_index"] / 10, *np.asarray(request["box"]) / 8, m.mean(),
                             m[:7].mean() - m[7:].mean(), (request["attention_mask"][0] != 0).sum() / 196])
        return softmax_rows(weights @ features)

    return global_scores


def fake_global_feature(seed, text, strength=0.3):
    """Stand-in for the engine of tagclip_classify: the class token feature [D] of the second pass,
    close to the candidate's text row, moved by the box and the token mask."""
    text = np.asarray(text, dtype=np.float64)
    rng = np.random.default_rng(seed)
    directions = rng.normal(size=(6, text.shape[1]))

    def global_feature(request):
        m = request["token_mask"].astype(np.float64)
        shift = np.array([*np.asarray(request["box"]) / 8, m.mean(), m[:7].mean() - m[7:].mean()])
        return text[request["class_index"]] + strength * (shift @ directions) / np.sqrt(text.shape[1])

    return global_feature
