"""Known-wrong: multiplies the loss by beta instead of the margin, −β·log σ(margin); beta must scale the log-ratios inside the sigmoid."""
import torch.nn.functional as F


def dpo_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta=0.1):
    z = (policy_chosen - ref_chosen) - (policy_rejected - ref_rejected)
    return -beta * F.logsigmoid(z).mean()
