"""Known-wrong: weights each expert output by its probability from a softmax over ALL experts,
not renormalized over the k selected ones (Mixtral: softmax of the top-k logits)."""
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
        probs = self.router(tokens).softmax(dim=-1)
        weights = probs.gather(-1, experts)
        out = torch.zeros_like(tokens)
        for e, expert in enumerate(self.experts):
            idx, slot = (experts == e).nonzero(as_tuple=True)
            if idx.numel() == 0:
                continue
            out = out.index_add(0, idx, weights[idx, slot, None] * expert(tokens[idx]))
        return out.reshape(B, T, D)
