"""Known-wrong: sorts each token's selected experts by expert index (handy for dispatch) instead of
keeping them in descending logit order."""
import torch


def top_k_routing(router_logits, k):
    top, experts = router_logits.topk(k, dim=-1)
    experts, order = experts.sort(dim=-1)
    return top.gather(-1, order).softmax(dim=-1), experts


def load_balancing_loss(router_logits, experts, n_experts):
    N, k = experts.shape
    probs = router_logits.softmax(dim=-1)
    counts = torch.bincount(experts.reshape(-1), minlength=n_experts).to(probs.dtype)
    f = counts / (N * k)
    return n_experts * (f * probs.mean(0)).sum()
