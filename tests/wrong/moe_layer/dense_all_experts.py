"""Known-wrong: runs every expert on every token and keeps the routed outputs with a weight mask;
the output is right, but it is dense compute (and idle experts are still called), not sparse dispatch."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class SwiGLU(nn.Module):
    def __init__(self, d_model, d_hidden):
        super().__init__()
        self.w_gate = nn.Linear(d_model, d_hidden, bias=False)
        self.w_up = nn.Linear(d_model, d_hidden, bias=False)
        self.w_down = nn.Linear(d_hidden, d_model, bias=False)

    def forward(self, x):
        return self.w_down(F.silu(self.w_gate(x)) * self.w_up(x))


def top_k_routing(router_logits, k):
    top, experts = router_logits.topk(k, dim=-1)
    return top.softmax(dim=-1), experts


class MoE(nn.Module):
    def __init__(self, d_model, d_hidden, n_experts, k):
        super().__init__()
        self.k = k
        self.router = nn.Linear(d_model, n_experts, bias=False)
        self.experts = nn.ModuleList(SwiGLU(d_model, d_hidden) for _ in range(n_experts))

    def forward(self, x):
        B, T, D = x.shape
        tokens = x.reshape(B * T, D)
        weights, experts = top_k_routing(self.router(tokens), self.k)
        gate = torch.zeros(B * T, len(self.experts), dtype=tokens.dtype).scatter(-1, experts, weights)
        outs = torch.stack([expert(tokens) for expert in self.experts], dim=1)
        return (gate[..., None] * outs).sum(1).reshape(B, T, D)
