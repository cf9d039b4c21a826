"""Known-wrong: uses φ(x) = elu(x) without the + 1, so features can be negative and the denominator φ(q)ᵀ z can
approach zero or change sign."""
import torch
import torch.nn.functional as F


def causal_linear_attention(q, k, v, eps=1e-6):
    phi_q, phi_k = F.elu(q), F.elu(k)
    S = torch.cumsum(phi_k.unsqueeze(-1) * v.unsqueeze(-2), dim=-3)
    z = torch.cumsum(phi_k, dim=-2)
    num = torch.einsum("...td,...tde->...te", phi_q, S)
    return num / ((phi_q * z).sum(-1, keepdim=True) + eps)
