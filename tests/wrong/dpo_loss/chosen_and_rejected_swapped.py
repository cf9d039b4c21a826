"""Known-wrong: the margin is rejected minus chosen, so minimizing the loss prefers the rejected response."""
import torch.nn.functional as F


def dpo_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta=0.1):
    z = beta * ((policy_rejected - ref_rejected) - (policy_chosen - ref_chosen))
    return -F.logsigmoid(z).mean()
