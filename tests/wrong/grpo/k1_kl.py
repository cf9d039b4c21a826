"""Known-wrong: penalizes the plain log-ratio logp − logp_ref (the k1 estimator) instead of k3; k1 is negative for many tokens, so the per-token penalty can reward moving away from the reference."""
import torch


def grpo_advantages(rewards, group_size, eps=1e-4):
    grouped = rewards.reshape(-1, group_size)
    mean = grouped.mean(dim=1, keepdim=True)
    std = grouped.std(dim=1, keepdim=True)
    return ((grouped - mean) / (std + eps)).reshape(-1)


def grpo_loss(logp, logp_old, logp_ref, advantages, mask, clip_eps=0.2, beta=0.04):
    A = advantages.unsqueeze(-1)
    ratio = torch.exp(logp - logp_old)
    surrogate = torch.minimum(ratio * A, torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps) * A)
    log_ref_ratio = logp_ref - logp
    kl = -log_ref_ratio
    per_token = surrogate - beta * kl
    m = mask.to(per_token.dtype)
    per_sequence = (per_token * m).sum(dim=-1) / m.sum(dim=-1)
    return -per_sequence.mean()
