"""Known-wrong: forms r = exp(logp) / exp(logq) from probabilities before taking logs; both underflow to 0 in float32 for log-probabilities below about −104, giving 0/0 = NaN."""
import torch


def kl_estimates(logp, logq):
    r = torch.exp(logp) / torch.exp(logq)
    log_r = torch.log(r)
    return -log_r, 0.5 * log_r ** 2, r - 1 - log_r
