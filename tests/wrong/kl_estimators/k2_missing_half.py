"""Known-wrong: k2 = (log r)² without the factor ½, twice the second-order approximation of the KL."""
import torch


def kl_estimates(logp, logq):
    log_r = logp - logq
    return -log_r, log_r ** 2, torch.exp(log_r) - 1 - log_r
