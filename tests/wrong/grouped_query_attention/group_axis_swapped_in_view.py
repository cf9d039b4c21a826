"""Known-wrong: groups the query heads with q.reshape(B, G, Hkv, L, d) instead of (B, Hkv, G, L, d), the
tiling mistake hidden in a reshape: query head h ends up with kv head h % Hkv."""
import math

import torch


def grouped_query_attention(q, k, v, mask=None):
    group = q.size(1) // k.size(1)
    B, Hq, L, d = q.shape
    Hkv, S = k.size(1), k.size(2)
    qg = q.reshape(B, group, Hkv, L, d)
    scores = qg @ k.unsqueeze(1).transpose(-2, -1) / math.sqrt(d)
    if mask is not None:
        full = torch.broadcast_to(mask, (B, Hq, L, S)).reshape(B, group, Hkv, L, S)
        scores = scores.masked_fill(~full, float("-inf"))
    return (scores.softmax(-1) @ v.unsqueeze(1)).reshape(B, Hq, L, d)
