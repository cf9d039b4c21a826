"""Known-wrong (seen in study articles): normalizes the exponentials over the whole score matrix instead of per row."""
import math

import torch


def scaled_dot_product_attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    e = (scores - scores.amax(dim=(-2, -1), keepdim=True)).exp()
    weights = e / e.sum(dim=(-2, -1), keepdim=True)
    return weights @ v, weights
