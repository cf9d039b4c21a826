"""Known-wrong: drops the reference model, −log σ(β(π_c − π_r)); DPO's implicit reward is the log-ratio to the reference, which also keeps the policy close to it."""
import torch.nn.functional as F


def dpo_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta=0.1):
    return -F.logsigmoid(beta * (policy_chosen - policy_rejected)).mean()
