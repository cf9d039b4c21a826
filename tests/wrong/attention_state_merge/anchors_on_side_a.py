"""Known-wrong: anchors the log-sum-exp on side a, ℓ = ℓa + log1p(e^(ℓb − ℓa)), instead of on the larger side:
it overflows when ℓb ≫ ℓa and gives NaN when side a is fully masked (ℓa = -inf)."""
import torch


def merge_attention(o_a, lse_a, o_b, lse_b):
    lse = lse_a + torch.log1p(torch.exp(lse_b - lse_a))
    w_a, w_b = torch.exp(lse_a - lse), torch.exp(lse_b - lse)
    return w_a.unsqueeze(-1) * o_a + w_b.unsqueeze(-1) * o_b, lse
