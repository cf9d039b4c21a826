"""Known-wrong: computes the "marginal" p(y) as a mean over classes (dim 1) instead of over samples (dim 0)."""
import torch


def inception_score(probs):
    marginal = probs.mean(1, keepdim=True)  # (N, 1), broadcast: should be probs.mean(0)
    kl = (torch.xlogy(probs, probs) - torch.xlogy(probs, marginal)).sum(1)
    return kl.mean().exp()
