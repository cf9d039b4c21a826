"""Known-wrong: reuses a full-sequence causal mask for the single new query but takes its row 0 (the mask row of
position 0, not of position t), so every step attends only to the first position."""
import math

import torch


def attend_step(q_t, k_t, v_t, cache=None):
    if cache is not None:
        k_t = torch.cat([cache[0], k_t], dim=-2)
        v_t = torch.cat([cache[1], v_t], dim=-2)
    T = k_t.size(-2)
    mask = torch.ones(T, T, dtype=torch.bool).tril()[:1]  # (1, T): row of query 0
    scores = q_t @ k_t.transpose(-2, -1) / math.sqrt(q_t.size(-1))
    weights = scores.masked_fill(~mask, float("-inf")).softmax(-1)
    return weights @ v_t, (k_t, v_t)
