"""Known-wrong (seen in study articles): -0.5*sum(1 + logvar - mu^2 - logvar); the last term must be exp(logvar)."""
import torch


def kl_normal(mu_q, logvar_q, mu_p=None, logvar_p=None):
    if mu_p is None:
        mu_p = torch.zeros_like(mu_q)
    if logvar_p is None:
        logvar_p = torch.zeros_like(logvar_q)
    var_ratio = logvar_q - logvar_p  # should be exp(logvar_q - logvar_p)
    mean_term = (mu_q - mu_p).pow(2) / logvar_p.exp()
    return 0.5 * (var_ratio + mean_term - 1.0 - (logvar_q - logvar_p)).sum(dim=-1)
