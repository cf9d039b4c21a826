"""Known-wrong: computes KL(p || q) instead of KL(q || p); KL is not symmetric."""
import torch


def kl_normal(mu_q, logvar_q, mu_p=None, logvar_p=None):
    if mu_p is None:
        mu_p = torch.zeros_like(mu_q)
    if logvar_p is None:
        logvar_p = torch.zeros_like(logvar_q)
    var_ratio = (logvar_p - logvar_q).exp()
    mean_term = (mu_q - mu_p).pow(2) / logvar_q.exp()
    return 0.5 * (var_ratio + mean_term - 1.0 - (logvar_p - logvar_q)).sum(dim=-1)
