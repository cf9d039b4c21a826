"""Known-wrong: when a block raises the running max, rescales the running sum by exp(m_old − m_new) but not the
output accumulator, so earlier blocks keep weights computed against a stale max."""
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
            s = s.masked_fill(torch.arange(start, start + k_blk.size(-2)) > rows, float("-inf"))
        m_new = torch.maximum(m, s.amax(-1, keepdim=True))
        p = torch.exp(s - m_new)
        l_sum = torch.exp(m - m_new) * l_sum + p.sum(-1, keepdim=True)
        acc = acc + p @ v_blk
        m = m_new
    return acc / l_sum
