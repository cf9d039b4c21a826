"""Known-wrong (seen in study articles): no softmax — the scaled scores are used as weights directly."""
import math

import torch


def scaled_dot_product_attention(q, k, v, mask=None):
    weights = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if mask is not None:
        weights = weights.masked_fill(~mask, 0.0)
    return weights @ v, weights
