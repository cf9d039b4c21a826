"""Known-wrong: broadcasts the (..., L) weights against the (..., L, d) outputs without a trailing dim, so they
scale the feature dim instead of each query's row (it only runs when L = d, or L = 1)."""
import torch


def merge_attention(o_a, lse_a, o_b, lse_b):
    lse = torch.logaddexp(lse_a, lse_b)
    w_a, w_b = torch.exp(lse_a - lse), torch.exp(lse_b - lse)
    w_a, w_b = w_a.unsqueeze(-2), w_b.unsqueeze(-2)  # (..., 1, L): lines up with d, not with the queries
    return w_a * o_a + w_b * o_b, lse
