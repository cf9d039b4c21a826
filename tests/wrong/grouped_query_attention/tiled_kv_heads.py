"""Known-wrong: tiles the kv heads with k.repeat(1, G, 1, 1), so query head h uses kv head h % Hkv instead of
h // G (consecutive query heads must share a kv head, as repeat_interleave)."""
import math


def grouped_query_attention(q, k, v, mask=None):
    group = q.size(1) // k.size(1)
    k, v = k.repeat(1, group, 1, 1), v.repeat(1, group, 1, 1)
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return scores.softmax(-1) @ v
