"""Known-wrong: uses KL(p(y) ‖ p(y|x)) instead of KL(p(y|x) ‖ p(y)); KL is not symmetric."""
import torch


def inception_score(probs):
    marginal = probs.mean(0, keepdim=True).expand_as(probs)
    eps = 1e-12
    kl = (marginal * (torch.log(marginal + eps) - torch.log(probs + eps))).sum(1)
    return kl.mean().exp()
