"""Known-wrong: averages the objective over all B·T positions, padding included."""
import torch


def ppo_policy_loss(logp_new, logp_old, advantages, mask, clip_eps=0.2):
    ratio = torch.exp(logp_new - logp_old)
    objective = torch.minimum(ratio * advantages, torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps) * advantages)
    return -objective.mean()
