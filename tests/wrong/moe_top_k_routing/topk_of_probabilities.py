"""Known-wrong: picks the top k from softmax(router_logits) over all experts and renormalizes them; the
weights are mathematically the same, but for large logits the lower probabilities underflow to exactly 0
and tie, so the selection no longer follows the logits (select with topk on the logits instead)."""
import torch


def top_k_routing(router_logits, k):
    probs = router_logits.softmax(dim=-1)
    top, experts = probs.topk(k, dim=-1)
    return top / top.sum(dim=-1, keepdim=True), experts


def load_balancing_loss(router_logits, experts, n_experts):
    N, k = experts.shape
    probs = router_logits.softmax(dim=-1)
    counts = torch.bincount(experts.reshape(-1), minlength=n_experts).to(probs.dtype)
    f = counts / (N * k)
    return n_experts * (f * probs.mean(0)).sum()
