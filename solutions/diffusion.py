r"""Diffusion (DDPM): the forward noising process and its tractable posterior.

The forward process adds Gaussian noise in $T$ small steps with variances
$\beta_0, \dots, \beta_{T-1}$ (a "noise schedule"):

$$q(x_t \mid x_{t-1}) = \mathcal N\big(\sqrt{1-\beta_t}\,x_{t-1},\ \beta_t I\big).$$

Composing Gaussian steps gives a closed form for any step, so training can
jump straight to a random $t$: with $\alpha_t = 1-\beta_t$ and
$\bar\alpha_t = \prod_{s \le t}\alpha_s$,

$$q(x_t \mid x_0) = \mathcal N\big(\sqrt{\bar\alpha_t}\,x_0,\ (1-\bar\alpha_t) I\big),\qquad
x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon.$$

Conditioned on $x_0$, the reverse step is Gaussian too (Bayes' rule on two
Gaussians):

$$q(x_{t-1} \mid x_t, x_0) = \mathcal N\Big(
\tfrac{\sqrt{\bar\alpha_{t-1}}\,\beta_t}{1-\bar\alpha_t}\,x_0
+ \tfrac{\sqrt{\alpha_t}\,(1-\bar\alpha_{t-1})}{1-\bar\alpha_t}\,x_t,\ \
\tfrac{1-\bar\alpha_{t-1}}{1-\bar\alpha_t}\,\beta_t\Big).$$

Indexing: **t is 0-based** here (as in code): `betas[0]` is the first step's
variance, $x_0$ is the data and `t = 0` yields $x$ after ONE step of noise. The
paper numbers steps 1..T; its $\beta_t$ is our `betas[t - 1]`.

Paper: Ho, Jain & Abbeel, *Denoising Diffusion Probabilistic Models*, arXiv:2006.11239.
"""
from __future__ import annotations

import torch


def linear_beta_schedule(T: int, beta_1: float = 1e-4, beta_T: float = 0.02) -> torch.Tensor:
    """(T,) float32 variances rising linearly from `beta_1` (first step) to `beta_T` (last step), as in DDPM."""
    assert T >= 1
    return torch.linspace(beta_1, beta_T, T, dtype=torch.float32)


def _per_example(values: torch.Tensor, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """values[t] reshaped to (B, 1, ..., 1) so that it broadcasts against `like` (B, ...)."""
    return values[t].reshape(-1, *([1] * (like.dim() - 1))).to(like.dtype)


def q_sample(x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor, alphas_cumprod: torch.Tensor) -> torch.Tensor:
    r"""Sample $x_t \sim q(x_t \mid x_0)$: $\sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon$.

    x0, noise: (B, ...); t: (B,) int64, 0-based indices into `alphas_cumprod`
    (T,) = cumprod(1 − betas). Returns (B, ...) in x0's dtype.
    """
    a_bar = _per_example(alphas_cumprod, t, x0)  # (B, 1, ..., 1)
    return a_bar.sqrt() * x0 + (1 - a_bar).sqrt() * noise  # mean √ᾱ·x0, std √(1−ᾱ)


def q_posterior(x0: torch.Tensor, xt: torch.Tensor, t: torch.Tensor,
                betas: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Mean and variance of $q(x_{t-1} \mid x_t, x_0)$ for 0-based t ≥ 1.

    x0, xt: (B, ...); t: (B,) int64; betas: (T,). Returns `mean` (B, ...) and
    `variance` (B, 1, ..., 1), which broadcasts to x0's shape. (At t = 0 the
    same formulas with $\bar\alpha_{-1} = 1$ give mean $x_0$ and variance 0.)
    """
    alphas = 1 - betas
    alphas_cumprod = torch.cumprod(alphas, dim=0)  # ᾱ_t = Π_{s≤t} α_s
    alphas_cumprod_prev = torch.cat([alphas_cumprod.new_ones(1), alphas_cumprod[:-1]])  # ᾱ_{t−1}, with ᾱ_{−1} = 1
    beta_t = _per_example(betas, t, x0)  # (B, 1, ..., 1)
    alpha_t = _per_example(alphas, t, x0)
    a_bar = _per_example(alphas_cumprod, t, x0)
    a_bar_prev = _per_example(alphas_cumprod_prev, t, x0)

    coef_x0 = a_bar_prev.sqrt() * beta_t / (1 - a_bar)  # √ᾱ_{t−1} β_t / (1 − ᾱ_t)
    coef_xt = alpha_t.sqrt() * (1 - a_bar_prev) / (1 - a_bar)  # √α_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t)
    mean = coef_x0 * x0 + coef_xt * xt
    variance = (1 - a_bar_prev) / (1 - a_bar) * beta_t  # β̃_t
    return mean, variance
