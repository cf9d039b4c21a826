"""Known-wrong: computes P from the top-k routing weights scattered into E slots instead of the
softmax over ALL E experts, so unselected experts get no probability mass and no gradient."""
import torch


def top_k_routing(router_logits, k):
    top, experts = router_logits.topk(k, dim=-1)
    return top.softmax(dim=-1), experts


def load_balancing_loss(router_logits, experts, n_experts):
    N, k = experts.shape
    top = router_logits.gather(-1, experts).softmax(dim=-1)
    probs = torch.zeros_like(router_logits).scatter(-1, experts, top)
    counts = torch.bincount(experts.reshape(-1), minlength=n_experts).to(probs.dtype)
    f = counts / (N * k)
    return n_experts * (f * probs.mean(0)).sum()
