"""Known-wrong: JSD with base-2 logarithms (bits, maximum 1) where the task and V(D*, G) = −log 4 + 2·JSD use the
natural log (nats, maximum log 2)."""
import torch


def optimal_discriminator(p_data, p_g):
    return p_data / (p_data + p_g)


def jensen_shannon(p, q):
    m = 0.5 * (p + q)
    kl = lambda a: (torch.xlogy(a, a) - torch.xlogy(a, m)).sum() / torch.log(torch.tensor(2.0))
    return 0.5 * kl(p) + 0.5 * kl(q)
