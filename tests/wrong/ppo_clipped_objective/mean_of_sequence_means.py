"""Known-wrong: averages each sequence's tokens first and then the sequences; the contract is one mean over all real tokens of the batch."""
import torch


def ppo_policy_loss(logp_new, logp_old, advantages, mask, clip_eps=0.2):
    ratio = torch.exp(logp_new - logp_old)
    objective = torch.minimum(ratio * advantages, torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps) * advantages)
    m = mask.to(objective.dtype)
    return -((objective * m).sum(-1) / m.sum(-1)).mean()
