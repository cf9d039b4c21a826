"""Known-wrong: builds the causal mask from the key's index inside the block (0..b−1) instead of its global position
start + index, so later blocks are masked as if they started at key 0."""
import math

import torch


def blockwise_attention(q, k, v, block_size, causal=False):
    L, S = q.size(-2), k.size(-2)
    scale = 1.0 / math.sqrt(q.size(-1))
    m = q.new_full((*q.shape[:-1], 1), float("-inf"))
    l_sum = q.new_zeros((*q.shape[:-1], 1))
    acc = q.new_zeros((*q.shape[:-1], v.size(-1)))
    rows = torch.arange(L).unsqueeze(-1)
    for start in range(0, S, block_size):
        k_blk, v_blk = k[..., start:start + block_size, :], v[..., start:start + block_size, :]
        s = q @ k_blk.transpose(-2, -1) * scale
        if causal:
            s = s.masked_fill(torch.arange(k_blk.size(-2)) > rows, float("-inf"))
        m_new = torch.maximum(m, s.amax(-1, keepdim=True))
        p = torch.exp(s - m_new)
        l_sum = torch.exp(m - m_new) * l_sum + p.sum(-1, keepdim=True)
        acc = torch.exp(m - m_new) * acc + p @ v_blk
        m = m_new
    return acc / l_sum
