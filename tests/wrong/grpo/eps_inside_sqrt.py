"""Known-wrong: divides by √(var + eps) instead of std + eps; the two differ for groups whose rewards are close."""
import torch


def grpo_advantages(rewards, group_size, eps=1e-4):
    grouped = rewards.reshape(-1, group_size)
    mean = grouped.mean(dim=1, keepdim=True)
    var = grouped.var(dim=1, keepdim=True)
    return ((grouped - mean) / torch.sqrt(var + eps)).reshape(-1)


def grpo_loss(logp, logp_old, logp_ref, advantages, mask, clip_eps=0.2, beta=0.04):
    A = advantages.unsqueeze(-1)
    ratio = torch.exp(logp - logp_old)
    surrogate = torch.minimum(ratio * A, torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps) * A)
    log_ref_ratio = logp_ref - logp
    kl = torch.exp(log_ref_ratio) - log_ref_ratio - 1
    per_token = surrogate - beta * kl
    m = mask.to(per_token.dtype)
    per_sequence = (per_token * m).sum(dim=-1) / m.sum(dim=-1)
    return -per_sequence.mean()
