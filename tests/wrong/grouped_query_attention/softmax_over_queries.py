"""Known-wrong: takes the softmax over the queries (dim=-2) instead of over the keys (dim=-1)."""
import math


def grouped_query_attention(q, k, v, mask=None):
    group = q.size(1) // k.size(1)
    k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return scores.softmax(-2).nan_to_num() @ v
