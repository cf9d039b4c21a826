"""Known-wrong: weights the outputs by e^(ℓ − m) relative to the larger lse without dividing by their sum, treating
the normalized outputs like FlashAttention's unnormalized accumulator."""
import torch


def merge_attention(o_a, lse_a, o_b, lse_b):
    m = torch.maximum(lse_a, lse_b)
    o = torch.exp(lse_a - m).unsqueeze(-1) * o_a + torch.exp(lse_b - m).unsqueeze(-1) * o_b
    return o, torch.logaddexp(lse_a, lse_b)
