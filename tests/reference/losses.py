"""Independent torch references of the losses (METHOD.md 3.1-3.3, 3.5, 3.7, 3.8).

Written from the specification as the reference code computes it: whole-tensor operations, the
gradients by torch autograd. The focusing weight is built under torch.set_grad_enabled(False)
for focal_weight='constant' (AsymmetricLoss, DualCoOp) and with gradient for 'differentiable'
(AsymmetricLossOptimized); the ranking loss forms the full C x C pair matrix, so its gradient at
the margin is what autograd gives (clamp passes gradient at 0) for margin_rule='reference'.
Every function takes numpy arrays and returns (value, gradient as numpy) in the input's dtype.
"""

import numpy as np
import torch


def _masks(targets, encoding):
    """(positive, negative) as float64 0/1 arrays."""
    y = np.asarray(targets)
    if y.dtype == np.bool_:
        return y.astype(np.float64), (~y).astype(np.float64)
    if encoding == "canonical":
        return (y == 1).astype(np.float64), (y == 0).astype(np.float64)
    return (y == 1).astype(np.float64), (y == -1).astype(np.float64)


def _leaf(x):
    return torch.tensor(np.array(x), requires_grad=True)


def _asl_entries(p, q, y, gamma_neg, gamma_pos, clip, eps, focal_weight):
    """-w * log-likelihood per entry (METHOD.md 3.1 steps 3-5, 3.2 steps 2-4)."""
    if clip is not None and clip > 0:
        q = (q + clip).clamp(max=1)
    loss = y * torch.log(p.clamp(min=eps)) + (1 - y) * torch.log(q.clamp(min=eps))
    if gamma_neg > 0 or gamma_pos > 0:
        with torch.set_grad_enabled(focal_weight == "differentiable"):
            pt = p * y + q * (1 - y)
            w = torch.pow(1 - pt, gamma_pos * y + gamma_neg * (1 - y))
        loss = loss * w
    return -loss


def _reduce(entries, keep, reduction):
    total = (entries * keep).sum()
    if reduction == "mean":
        count = keep.sum()
        if count > 0:
            total = total / count
    return total


def asl_loss(logits, targets, gamma_neg=4.0, gamma_pos=1.0, clip=0.05, eps=1e-8, focal_weight="constant",
             reduction="sum", encoding="canonical"):
    x = _leaf(logits)
    pos, neg = _masks(targets, encoding)
    y = torch.tensor(pos, dtype=x.dtype)
    keep = torch.tensor(pos + neg, dtype=x.dtype)
    p = torch.sigmoid(x)
    entries = _asl_entries(p, 1 - p, y, gamma_neg, gamma_pos, clip, eps, focal_weight)
    total = _reduce(entries, keep, reduction)
    total.backward()
    return total.item(), x.grad.numpy()


def asl_dual_loss(logits, targets, gamma_neg=2.0, gamma_pos=1.0, clip=0.05, eps=1e-6, focal_weight="constant",
                  reduction="sum", encoding="canonical"):
    o = _leaf(logits)
    pos, neg = _masks(targets, encoding)
    kept = torch.tensor((pos + neg).reshape(-1) > 0)
    soft = torch.softmax(o, dim=1)
    p = soft[:, 1, :].reshape(-1)[kept]  # DualCoOp drops the ignored entries before the loss
    q = soft[:, 0, :].reshape(-1)[kept]
    y = torch.tensor(pos.reshape(-1)[kept.numpy()], dtype=o.dtype)
    entries = _asl_entries(p, q, y, gamma_neg, gamma_pos, clip, eps, focal_weight)
    total = _reduce(entries, torch.ones_like(entries), reduction)
    total.backward()
    return total.item(), o.grad.numpy()


def ranking_loss(scores, targets, margin=1.0, eps=1e-8, margin_rule="reference", reduction="mean",
                 encoding="signed_zero_ignored"):
    s = _leaf(scores)
    pos_np, neg_np = _masks(targets, encoding)
    pos = torch.tensor(pos_np, dtype=s.dtype)
    neg = torch.tensor(neg_np, dtype=s.dtype)
    mask = pos.unsqueeze(1) * neg.unsqueeze(-1)  # [B, i negative, j positive]
    pair = margin + (s * neg).unsqueeze(-1) - (s * pos).unsqueeze(1)
    masked = mask * pair
    if margin_rule == "reference":
        hinge = torch.clamp(masked, 0)  # passes gradient at 0
    else:
        hinge = torch.where(masked > 0, masked, torch.zeros_like(masked))
    violating = torch.sign(hinge).sum(1).sum(1)
    per_image = hinge.sum(1).sum(1) / (violating + eps)
    total = per_image.mean() if reduction == "mean" else per_image.sum()
    total.backward()
    return total.item(), s.grad.numpy()


def l1_distillation(student, teacher, reduction="mean"):
    s = _leaf(student)
    total = torch.nn.functional.l1_loss(s, torch.tensor(np.array(teacher)), reduction=reduction)
    total.backward()
    return total.item(), s.grad.numpy()
