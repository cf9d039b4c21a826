"""Known-wrong: D* = p_g / (p_data + p_g), the probability that x is FAKE rather than real."""
import torch


def optimal_discriminator(p_data, p_g):
    return p_g / (p_data + p_g)


def jensen_shannon(p, q):
    m = 0.5 * (p + q)
    kl = lambda a: (torch.xlogy(a, a) - torch.xlogy(a, m)).sum()
    return 0.5 * kl(p) + 0.5 * kl(q)
