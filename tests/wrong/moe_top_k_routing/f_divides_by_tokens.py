"""Known-wrong: divides the assignment counts by N instead of N·k, so with top-k routing f sums to k
and the loss is k times too large."""
import torch


def top_k_routing(router_logits, k):
    top, experts = router_logits.topk(k, dim=-1)
    return top.softmax(dim=-1), experts


def load_balancing_loss(router_logits, experts, n_experts):
    N, k = experts.shape
    probs = router_logits.softmax(dim=-1)
    counts = torch.bincount(experts.reshape(-1), minlength=n_experts).to(probs.dtype)
    f = counts / N
    return n_experts * (f * probs.mean(0)).sum()
