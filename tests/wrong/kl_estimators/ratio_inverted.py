"""Known-wrong: takes r = q(x)/p(x) (log r = logq − logp), the convention of the other KL direction; with samples from q the estimators then no longer estimate KL(q ‖ p)."""
import torch


def kl_estimates(logp, logq):
    log_r = logq - logp
    return -log_r, 0.5 * log_r ** 2, torch.exp(log_r) - 1 - log_r
