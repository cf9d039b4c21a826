"""Known-wrong: uses the clipped term alone, clip(r, 1 − ε, 1 + ε)·A, without the min with r·A; a bad action whose ratio has grown past 1 + ε then gets no gradient at all."""
import torch


def ppo_policy_loss(logp_new, logp_old, advantages, mask, clip_eps=0.2):
    ratio = torch.exp(logp_new - logp_old)
    objective = torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps) * advantages
    m = mask.to(objective.dtype)
    return -(objective * m).sum() / m.sum()
