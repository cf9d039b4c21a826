"""Known-wrong: splits the QUERIES into blocks and attends each query block over all S keys with a plain softmax; a
block of block_size queries still forms a (block_size, S) score tile, which is all of (L, S) when L ≤ block_size."""
import math

import torch


def blockwise_attention(q, k, v, block_size, causal=False):
    L, S = q.size(-2), k.size(-2)
    outs = []
    for start in range(0, L, block_size):
        q_blk = q[..., start:start + block_size, :]
        s = q_blk @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
        if causal:
            rows = torch.arange(start, start + q_blk.size(-2)).unsqueeze(-1)
            s = s.masked_fill(torch.arange(S) > rows, float("-inf"))
        outs.append(torch.softmax(s, dim=-1) @ v)
    return torch.cat(outs, dim=-2)
