"""Known-wrong (seen in study articles): adds a spurious -sum(ln sigma) to the closed-form KL."""
import torch


def kl_normal(mu_q, logvar_q, mu_p=None, logvar_p=None):
    if mu_p is None:
        mu_p = torch.zeros_like(mu_q)
    if logvar_p is None:
        logvar_p = torch.zeros_like(logvar_q)
    var_ratio = (logvar_q - logvar_p).exp()
    mean_term = (mu_q - mu_p).pow(2) / logvar_p.exp()
    kl = 0.5 * (var_ratio + mean_term - 1.0 - (logvar_q - logvar_p)).sum(dim=-1)
    return kl - (0.5 * logvar_q).sum(dim=-1)
