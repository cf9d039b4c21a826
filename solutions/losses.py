r"""Foundations: a numerically stable softmax, cross-entropy, BCE on logits,
and the KL divergence between diagonal Gaussians.

The shared idea is the log-sum-exp trick. For any constant $m$,

$$\log\sum_j e^{x_j} = m + \log\sum_j e^{x_j - m},$$

and with $m = \max_j x_j$ every exponent is $\le 0$, so nothing overflows and
at least one term equals 1, so nothing underflows to $\log 0$.
"""
from __future__ import annotations

import torch


def softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    r"""$\mathrm{softmax}(x)_i = e^{x_i - m} / \sum_j e^{x_j - m}$ with $m = \max_j x_j$ along `dim`.

    Subtracting the max changes nothing mathematically (the factor $e^{-m}$
    cancels) but keeps `exp` from overflowing for inputs like 1e4.
    """
    shifted = x - x.amax(dim=dim, keepdim=True)  # largest entry becomes 0
    exp = shifted.exp()
    return exp / exp.sum(dim=dim, keepdim=True)


def cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    r"""Mean negative log-likelihood of integer targets under softmax(logits).

    logits: (B, C); target: (B,) int64 class indices. Uses
    $-\log p_y = \operatorname{logsumexp}(\ell) - \ell_y$, never log(softmax),
    which would give log(0) = -inf for very negative logits.
    """
    m = logits.amax(dim=-1, keepdim=True)
    log_normalizer = m.squeeze(-1) + (logits - m).exp().sum(dim=-1).log()  # (B,)
    target_logit = logits.gather(-1, target.unsqueeze(-1)).squeeze(-1)  # (B,)
    return (log_normalizer - target_logit).mean()


def bce_with_logits(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    r"""Mean binary cross-entropy of targets in [0, 1] given logits $\ell$.

    $-[y\log\sigma(\ell) + (1-y)\log(1-\sigma(\ell))] = \max(\ell, 0) - \ell y + \log(1 + e^{-|\ell|})$:
    the right-hand side never exponentiates a positive number.
    """
    loss = logits.clamp(min=0) - logits * target + torch.log1p((-logits.abs()).exp())
    return loss.mean()


def kl_normal(mu_q: torch.Tensor, logvar_q: torch.Tensor,
              mu_p: torch.Tensor | None = None, logvar_p: torch.Tensor | None = None) -> torch.Tensor:
    r"""KL(N(μ_q, diag e^{logvar_q}) ‖ N(μ_p, diag e^{logvar_p})), summed over the last dim.

    Per dimension, with $\sigma^2 = e^{\text{logvar}}$:

    $$\tfrac12\Big(\log\frac{\sigma_p^2}{\sigma_q^2} + \frac{\sigma_q^2 + (\mu_q-\mu_p)^2}{\sigma_p^2} - 1\Big).$$

    With the default prior N(0, I) this is the familiar VAE term
    $-\tfrac12\sum(1 + \text{logvar} - \mu^2 - e^{\text{logvar}})$ — note
    $e^{\text{logvar}}$, not logvar, in the last term. Returns the batch shape.
    """
    if mu_p is None:
        mu_p = torch.zeros_like(mu_q)
    if logvar_p is None:
        logvar_p = torch.zeros_like(logvar_q)
    var_ratio = (logvar_q - logvar_p).exp()  # σ_q² / σ_p²
    mean_term = (mu_q - mu_p).pow(2) / logvar_p.exp()
    return 0.5 * (var_ratio + mean_term - 1.0 - (logvar_q - logvar_p)).sum(dim=-1)
