"""Known-wrong: k2 = ½(r − 1)², the square of the ratio's deviation instead of the square of the log ratio."""
import torch


def kl_estimates(logp, logq):
    log_r = logp - logq
    r = torch.exp(log_r)
    return -log_r, 0.5 * (r - 1) ** 2, r - 1 - log_r
