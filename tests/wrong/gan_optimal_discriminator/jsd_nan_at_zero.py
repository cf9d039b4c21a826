"""Known-wrong: sum(p * log(p / m)) evaluated naively; where p_i = 0 this is 0·log 0 = 0·(−inf) = NaN
instead of 0."""
import torch


def optimal_discriminator(p_data, p_g):
    return p_data / (p_data + p_g)


def jensen_shannon(p, q):
    m = 0.5 * (p + q)
    return 0.5 * (p * torch.log(p / m)).sum() + 0.5 * (q * torch.log(q / m)).sum()
