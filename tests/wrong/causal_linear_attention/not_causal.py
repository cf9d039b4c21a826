"""Known-wrong: sums φ(k_s) v_sᵀ and φ(k_s) over the whole sequence (the non-causal linear attention), so every
output depends on future tokens."""
import torch
import torch.nn.functional as F


def causal_linear_attention(q, k, v, eps=1e-6):
    phi_q, phi_k = F.elu(q) + 1, F.elu(k) + 1
    S = phi_k.transpose(-2, -1) @ v
    z = phi_k.sum(-2, keepdim=True)
    return (phi_q @ S) / ((phi_q * z).sum(-1, keepdim=True) + eps)
