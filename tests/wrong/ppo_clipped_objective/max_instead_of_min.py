"""Known-wrong: takes the max of the clipped and unclipped terms (an optimistic bound), so the clip never limits an improving update."""
import torch


def ppo_policy_loss(logp_new, logp_old, advantages, mask, clip_eps=0.2):
    ratio = torch.exp(logp_new - logp_old)
    objective = torch.maximum(ratio * advantages, torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps) * advantages)
    m = mask.to(objective.dtype)
    return -(objective * m).sum() / m.sum()
