r"""Evaluation metrics for generative models: the Fréchet distance behind FID,
the Inception Score, and perplexity.

**Fréchet distance.** FID fits a Gaussian to Inception features of real and of
generated images and reports the squared 2-Wasserstein (Fréchet) distance
between the two Gaussians:

$$d^2 = \lVert\mu_1-\mu_2\rVert^2 + \operatorname{Tr}\big(\Sigma_1+\Sigma_2-2(\Sigma_1^{1/2}\Sigma_2\Sigma_1^{1/2})^{1/2}\big).$$

Heusel et al., *GANs Trained by a Two Time-Scale Update Rule Converge to a
Local Nash Equilibrium*, arXiv:1706.08500.

**Inception Score.** With a classifier's $p(y\mid x)$ on generated samples and
the marginal $p(y) = \mathbb E_x[p(y\mid x)]$,

$$\mathrm{IS} = \exp\big(\mathbb E_x\, D_{\mathrm{KL}}(p(y\mid x)\,\|\,p(y))\big),$$

high when each sample is confidently one class and the classes are diverse.
Salimans et al., *Improved Techniques for Training GANs*, arXiv:1606.03498.

**Perplexity.** $\mathrm{PPL} = \exp\big(-\frac1N\sum_t \log p(x_t\mid x_{<t})\big)$
over the $N$ non-padding tokens: the exponential of the mean token
cross-entropy in nats.
"""
from __future__ import annotations

import torch


def _sqrt_psd(m: torch.Tensor) -> torch.Tensor:
    """Symmetric square root of a symmetric positive semi-definite matrix via eigh."""
    w, v = torch.linalg.eigh(m)  # m = V diag(w) Vᵀ
    return (v * w.clamp(min=0).sqrt()) @ v.transpose(-2, -1)  # V diag(√w) Vᵀ


def frechet_distance(mu1: torch.Tensor, sigma1: torch.Tensor, mu2: torch.Tensor,
                     sigma2: torch.Tensor) -> torch.Tensor:
    r"""Squared Fréchet (2-Wasserstein) distance between N(mu1, sigma1) and N(mu2, sigma2).

    mu1, mu2: (d,); sigma1, sigma2: (d, d) symmetric positive semi-definite.
    Returns a 0-dim tensor in the inputs' dtype:
    ‖μ1 − μ2‖² + Tr(Σ1 + Σ2 − 2(Σ1^{½} Σ2 Σ1^{½})^{½}).
    """
    dtype = mu1.dtype
    mu1, mu2, sigma1, sigma2 = (t.double() for t in (mu1, mu2, sigma1, sigma2))
    root1 = _sqrt_psd(sigma1)  # Σ1^{½}
    middle = root1 @ sigma2 @ root1  # symmetric PSD, similar to Σ1Σ2
    middle = 0.5 * (middle + middle.T)  # remove round-off asymmetry before eigvalsh
    trace_sqrt = torch.linalg.eigvalsh(middle).clamp(min=0).sqrt().sum()  # Tr((Σ1^{½}Σ2Σ1^{½})^{½})
    mean_term = (mu1 - mu2).pow(2).sum()  # squared Euclidean distance
    return (mean_term + torch.trace(sigma1) + torch.trace(sigma2) - 2.0 * trace_sqrt).to(dtype)


def inception_score(probs: torch.Tensor) -> torch.Tensor:
    r"""exp(mean_x KL(p(y|x) ‖ p(y))) for probs (N, C) whose rows are p(y|x); a 0-dim tensor.

    p(y) is the mean of the rows (over samples, dim 0). Uses 0·log 0 = 0, so
    one-hot rows are fine. The result lies in [1, C].
    """
    marginal = probs.mean(dim=0, keepdim=True)  # (1, C) = p(y)
    kl = (torch.xlogy(probs, probs) - torch.xlogy(probs, marginal)).sum(dim=1)  # (N,) Σ_y p log(p / p(y))
    return kl.mean().exp()


def perplexity(logits: torch.Tensor, targets: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
    r"""exp of the mean negative log-likelihood of the targets, over non-ignored positions; 0-dim.

    logits: (..., V) with the class dim last; targets: (...) int64, the same
    leading shape. Positions where targets == ignore_index (padding) count
    neither in the sum nor in the number of tokens.
    """
    V = logits.size(-1)
    logits, targets = logits.reshape(-1, V), targets.reshape(-1)  # (N, V), (N,)
    keep = targets != ignore_index  # (N,)
    logits, targets = logits[keep], targets[keep]
    log_normalizer = torch.logsumexp(logits, dim=-1)  # (n,) stable log Σ_v e^{ℓ_v}
    nll = log_normalizer - logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1)  # (n,) −log p(target)
    return nll.mean().exp()
