"""Known-wrong: k3 = (r − 1) + log r, the log term with the wrong sign; it is negative for r < 1 and does not estimate the KL."""
import torch


def kl_estimates(logp, logq):
    log_r = logp - logq
    return -log_r, 0.5 * log_r ** 2, torch.exp(log_r) - 1 + log_r
