"""The scoring pieces in torch, written from METHOD.md 1.1-1.3 (not from mlr's code).

An independent reference for the tests of the Python module; every function takes and returns
torch tensors, so autograd gives the reference gradients:

* DualCoOp (1.1.3-1.1.4): the visual tokens are handled in DualCoOp's own layout F [B, D, L];
  features and prompts are divided by their norms (no epsilon); the similarity maps are the
  [B, 2C, L] product with the prompt rows, negative prompts first; alpha = softmax over the L
  positions of spatial_scale * S+ (not detached), applied to both maps; logits = output_scale *
  sum_l alpha * S, returned as [B, 2, C] (0 negative, 1 positive).
* The probability is the softmax over axis 1, taken at index 1 (what the reference code does).
* MKT (1.2.2): top-k mean of the patch dot products, the global dot product, each divided by its
  L2 norm over the classes, averaged.
* TagCLIP (1.3.4): softmax over the K text rows of logit_scale * cosine.
"""

import torch


def _unit(x, dim):
    return x / x.norm(dim=dim, keepdim=True)


def region_similarity(visual, text):
    """visual [B, R, D], text [C, D] -> [B, R, C]."""
    return _unit(visual, -1) @ _unit(text, -1).T


def dualcoop_logits(visual, text_neg, text_pos, spatial_scale=20.0, output_scale=100.0):
    """visual [B, L, D], text_neg / text_pos [C, D] -> [B, 2, C]."""
    features = _unit(visual.transpose(1, 2), 1)                 # F-hat [B, D, L], norm over D
    prompts = _unit(torch.cat([text_neg, text_pos], 0), -1)     # [2C, D], negative rows first
    maps = torch.einsum("kd,bdl->bkl", prompts, features)       # [B, 2C, L]
    c = text_neg.shape[0]
    s_neg, s_pos = maps[:, :c], maps[:, c:]
    alpha = torch.softmax(spatial_scale * s_pos, dim=-1)        # over the L positions
    l_pos = output_scale * (alpha * s_pos).sum(-1)
    l_neg = output_scale * (alpha * s_neg).sum(-1)
    return torch.stack([l_neg, l_pos], 1)


def class_specific_aggregate(sim_pos, sim_neg, spatial_scale=20.0, output_scale=100.0):
    """sim_pos / sim_neg [B, L, C] -> [B, 2, C]."""
    alpha = torch.softmax(spatial_scale * sim_pos, dim=1)
    return output_scale * torch.stack([(alpha * sim_neg).sum(1), (alpha * sim_pos).sum(1)], 1)


def dual_prompt_probability(logits):
    """[B, 2, C] -> p [B, C], the positive entry of the 2-way softmax."""
    return torch.softmax(logits, dim=1)[:, 1]


def mkt_scores(patches, global_, label_emb, k=16):
    """patches [B, P, D], global_ [B, D], label_emb [C, D] -> [B, C]."""
    local = torch.einsum("bpd,cd->bcp", patches, label_emb).topk(k, dim=-1).values.mean(-1)
    glob = global_ @ label_emb.T
    return (_unit(local, -1) + _unit(glob, -1)) / 2


def tagclip_coarse(patches, text, logit_scale=100.0):
    """patches [N, D], text [K, D] -> [N, K]."""
    return torch.softmax(logit_scale * (_unit(patches, -1) @ _unit(text, -1).T), dim=-1)
