"""Known-wrong: computes log(sigmoid(z)), which underflows to log(0) = -inf for large negative margins; use F.logsigmoid."""
import torch


def dpo_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta=0.1):
    z = beta * ((policy_chosen - ref_chosen) - (policy_rejected - ref_rejected))
    return -torch.log(torch.sigmoid(z)).mean()
