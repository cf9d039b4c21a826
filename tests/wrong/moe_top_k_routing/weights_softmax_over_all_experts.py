"""Known-wrong: takes the softmax over all E logits and then keeps the top k probabilities
without renormalizing them, so the weights sum to less than 1 (Mixtral renormalizes: softmax over the selected logits)."""
import torch


def top_k_routing(router_logits, k):
    probs = router_logits.softmax(dim=-1)
    weights, experts = probs.topk(k, dim=-1)
    return weights, experts


def load_balancing_loss(router_logits, experts, n_experts):
    N, k = experts.shape
    probs = router_logits.softmax(dim=-1)
    counts = torch.bincount(experts.reshape(-1), minlength=n_experts).to(probs.dtype)
    f = counts / (N * k)
    return n_experts * (f * probs.mean(0)).sum()
