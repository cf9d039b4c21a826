"""Known-wrong: trims the cache to the last 8 positions "to save memory", which is sliding-window attention, not the
full causal attention the task asks for."""
import math

import torch

WINDOW = 8


def attend_step(q_t, k_t, v_t, cache=None):
    if cache is not None:
        k_t = torch.cat([cache[0], k_t], dim=-2)[..., -WINDOW:, :]
        v_t = torch.cat([cache[1], v_t], dim=-2)[..., -WINDOW:, :]
    weights = (q_t @ k_t.transpose(-2, -1) / math.sqrt(q_t.size(-1))).softmax(-1)
    return weights @ v_t, (k_t, v_t)
