"""Known-wrong: returns the mean KL itself and forgets the exponential."""
import torch


def inception_score(probs):
    marginal = probs.mean(0, keepdim=True)
    kl = (torch.xlogy(probs, probs) - torch.xlogy(probs, marginal)).sum(1)
    return kl.mean()
