"""Known-wrong: returns k1 = log r = log p/q, whose mean under q is −KL(q ‖ p), not the KL."""
import torch


def kl_estimates(logp, logq):
    log_r = logp - logq
    return log_r, 0.5 * log_r ** 2, torch.exp(log_r) - 1 - log_r
