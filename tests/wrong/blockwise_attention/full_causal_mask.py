"""Known-wrong: runs the online softmax over key/value blocks correctly, but builds the causal mask once as a full
(L, S) torch.tril and slices it per block, so an (L, S) intermediate exists after all."""
import math

import torch


def blockwise_attention(q, k, v, block_size, causal=False):
    L, S = q.size(-2), k.size(-2)
    scale = 1.0 / math.sqrt(q.size(-1))
    full_mask = torch.ones(L, S, dtype=torch.bool).tril() if causal else None
    m = q.new_full((*q.shape[:-1], 1), float("-inf"))
    l_sum = q.new_zeros((*q.shape[:-1], 1))
    acc = q.new_zeros((*q.shape[:-1], v.size(-1)))
    for start in range(0, S, block_size):
        k_blk, v_blk = k[..., start:start + block_size, :], v[..., start:start + block_size, :]
        s = q @ k_blk.transpose(-2, -1) * scale
        if causal:
            s = s.masked_fill(~full_mask[:, start:start + block_size], float("-inf"))
        m_new = torch.maximum(m, s.amax(-1, keepdim=True))
        c = torch.exp(m - m_new)
        p = torch.exp(s - m_new)
        l_sum = c * l_sum + p.sum(-1, keepdim=True)
        acc = c * acc + p @ v_blk
        m = m_new
    return acc / l_sum
