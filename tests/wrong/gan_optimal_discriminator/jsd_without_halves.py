"""Known-wrong: JSD = KL(p‖m) + KL(q‖m), forgetting the ½ weights, so it ranges up to 2·log 2."""
import torch


def optimal_discriminator(p_data, p_g):
    return p_data / (p_data + p_g)


def jensen_shannon(p, q):
    m = 0.5 * (p + q)
    kl = lambda a: (torch.xlogy(a, a) - torch.xlogy(a, m)).sum()
    return kl(p) + kl(q)
