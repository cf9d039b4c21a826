"""Known-wrong: returns logsumexp of the log-weights without the 1/K, i.e. log Σ_k w_k — too large by log K (and
above log p(x) for large K)."""
import torch


def iwae_bound(log_p_xz, log_q_zx):
    return torch.logsumexp(log_p_xz - log_q_zx, dim=-1)
