"""Known-wrong: returns the running max max(ℓa, ℓb) as the merged lse (the output weights are right), confusing
FlashAttention's running maximum m with the log-sum-exp."""
import torch


def merge_attention(o_a, lse_a, o_b, lse_b):
    m = torch.maximum(lse_a, lse_b)
    w_a, w_b = torch.exp(lse_a - m), torch.exp(lse_b - m)
    o = (w_a.unsqueeze(-1) * o_a + w_b.unsqueeze(-1) * o_b) / (w_a + w_b).unsqueeze(-1)
    return o, m
