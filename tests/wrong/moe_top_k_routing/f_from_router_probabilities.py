"""Known-wrong: measures f_e as the router probability mass that the selected slots carry
(a differentiable "soft count") instead of the fraction of assignments; value and gradient both change."""
import torch


def top_k_routing(router_logits, k):
    top, experts = router_logits.topk(k, dim=-1)
    return top.softmax(dim=-1), experts


def load_balancing_loss(router_logits, experts, n_experts):
    N, k = experts.shape
    probs = router_logits.softmax(dim=-1)
    picked = torch.zeros_like(probs).scatter(-1, experts, probs.gather(-1, experts))
    f = picked.sum(0) / picked.sum()
    return n_experts * (f * probs.mean(0)).sum()
