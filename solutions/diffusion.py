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

Sampling and schedules built on the same $\bar\alpha$'s:

- DDIM (Song, Meng & Ermon, arXiv:2010.02502) jumps from $t$ to any earlier $t'$ through the predicted
  clean sample $\hat x_0=(x_t-\sqrt{1-\bar\alpha_t}\,\varepsilon)/\sqrt{\bar\alpha_t}$:
  $x_{t'}=\sqrt{\bar\alpha_{t'}}\,\hat x_0+\sqrt{1-\bar\alpha_{t'}-\sigma^2}\,\varepsilon+\sigma z$;
  $\sigma=0$ is deterministic, and $\eta=1$ on adjacent steps is DDPM's ancestral step.
- Classifier-free guidance (Ho & Salimans, arXiv:2207.12598) extrapolates from the unconditional to the
  conditional prediction: $\tilde\varepsilon=\varepsilon_u+s\,(\varepsilon_c-\varepsilon_u)$.
- The cosine schedule (Nichol & Dhariwal, arXiv:2102.09672) sets $\bar\alpha_t=f(t)/f(0)$ with
  $f(t)=\cos^2\big(\tfrac{t/T+s}{1+s}\tfrac\pi2\big)$; Lin et al. (arXiv:2305.08891) rescale any schedule
  so that $\bar\alpha_T=0$ (zero terminal SNR).
"""
from __future__ import annotations

import math

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
    r"""Mean and variance of $q(x_{t-1} \mid x_t, x_0)$ for 0-based t = 0 … T − 1 (t = 0 included).

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


def ddim_step(x_t: torch.Tensor, eps: torch.Tensor, t: int, t_prev: int, alphas_cumprod: torch.Tensor,
              eta: float = 0.0, noise: torch.Tensor | None = None) -> torch.Tensor:
    r"""One DDIM update from step `t` to an earlier step `t_prev` (Song, Meng & Ermon, arXiv:2010.02502).

    x_t, eps: (B, ...), eps the model's noise prediction at (x_t, t); t, t_prev: Python ints, 0-based
    indices into `alphas_cumprod` (T,) with t_prev < t (any earlier step, not only t − 1); t_prev = −1
    means "the clean data": ᾱ_prev = 1 (do NOT index alphas_cumprod[−1]). With ᾱ_t = alphas_cumprod[t]:

        x̂₀     = (x_t − √(1 − ᾱ_t)·eps) / √ᾱ_t
        σ      = eta · √((1 − ᾱ_prev)/(1 − ᾱ_t)) · √(1 − ᾱ_t/ᾱ_prev)
        x_prev = √ᾱ_prev·x̂₀ + √(1 − ᾱ_prev − σ²)·eps + σ·noise

    eta = 0 is deterministic DDIM; eta = 1 with t_prev = t − 1 is DDPM's ancestral step. `noise` (B, ...)
    is a standard normal draw; when None, draw a fresh one (torch.randn_like). No clipping of x̂₀.
    Returns x_prev, (B, ...) in x_t's dtype.
    """
    a_t = float(alphas_cumprod[t])  # ᾱ_t
    a_prev = float(alphas_cumprod[t_prev]) if t_prev >= 0 else 1.0  # ᾱ_prev, with ᾱ_{−1} = 1
    x0_hat = (x_t - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)  # x̂₀ = (x_t − √(1−ᾱ_t) ε) / √ᾱ_t
    sigma = eta * math.sqrt((1 - a_prev) / (1 - a_t)) * math.sqrt(1 - a_t / a_prev)  # σ_t(η)
    direction = math.sqrt(max(1 - a_prev - sigma ** 2, 0.0)) * eps  # "direction pointing to x_t"
    x_prev = math.sqrt(a_prev) * x0_hat + direction
    if sigma > 0:
        if noise is None:
            noise = torch.randn_like(x_t)
        x_prev = x_prev + sigma * noise  # fresh noise σ·z
    return x_prev


def cfg_eps(model, x_t: torch.Tensor, t: torch.Tensor, cond: torch.Tensor, null_cond: torch.Tensor,
            scale: float) -> torch.Tensor:
    r"""Classifier-free guidance (Ho & Salimans, arXiv:2207.12598): ε = ε_u + scale·(ε_c − ε_u).

    `model(x, t, c)` predicts noise. x_t: (B, ...); t: (B,); cond: (B, ...) the condition (e.g. text
    embeddings); null_cond: the "empty" condition, the same shape as cond. Call the model exactly ONCE, on
    the doubled batch of 2B: x = [x_t; x_t], t = [t; t], c = [null_cond; cond] (concatenated on dim 0,
    the unconditional half FIRST), then split its output into ε_u (first B rows) and ε_c (last B rows).
    scale = 0 gives ε_u, scale = 1 gives ε_c (no guidance), scale > 1 extrapolates past ε_c (the paper's
    w is scale − 1). Returns (B, ...) in the model output's dtype.
    """
    B = x_t.shape[0]
    x_in = torch.cat([x_t, x_t], dim=0)  # (2B, ...)
    t_in = torch.cat([t, t], dim=0)  # (2B,)
    c_in = torch.cat([null_cond, cond], dim=0)  # (2B, ...): unconditional half first
    eps_u, eps_c = model(x_in, t_in, c_in).split(B, dim=0)  # one forward pass, (B, ...) each
    return eps_u + scale * (eps_c - eps_u)  # ε_u + s·(ε_c − ε_u)


def cosine_alphas_cumprod(T: int, s: float = 0.008) -> torch.Tensor:
    r"""The cosine schedule of Nichol & Dhariwal (arXiv:2102.09672): ᾱ for t = 1…T, as a (T,) float32 tensor.

    f(t) = cos²(((t/T + s)/(1 + s))·π/2) and ᾱ_t = f(t)/f(0), so ᾱ_0 = 1 is NOT included: entry k holds
    ᾱ_{k+1}. Then betas β_t = 1 − ᾱ_t/ᾱ_{t−1} (with ᾱ_0 = 1) are clipped at 0.999, and ᾱ is recomputed
    from the clipped betas as cumprod(1 − β). Only the last beta hits the clip: without it β_T = 1 and
    ᾱ_T = 0; with it ᾱ_T = 0.001·ᾱ_{T−1}. Computed in float64, returned as float32.
    """
    t = torch.arange(T + 1, dtype=torch.float64)  # t = 0…T
    f = torch.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2  # f(t) = cos²(((t/T + s)/(1 + s))·π/2)
    alpha_bar = f / f[0]  # ᾱ_t = f(t)/f(0), ᾱ_0 = 1
    betas = (1 - alpha_bar[1:] / alpha_bar[:-1]).clamp(max=0.999)  # β_t = 1 − ᾱ_t/ᾱ_{t−1}, t = 1…T, clipped
    return torch.cumprod(1 - betas, dim=0).float()  # ᾱ recomputed from the clipped betas, (T,)


def rescale_zero_terminal_snr(betas: torch.Tensor) -> torch.Tensor:
    r"""Rescale a schedule to zero terminal SNR (Lin et al., arXiv:2305.08891, Algorithm 1); returns new betas.

    betas: (T,). With ᾱ = cumprod(1 − betas), shift and scale √ᾱ linearly so that its LAST entry becomes
    exactly 0 and its FIRST entry is unchanged: √ᾱ' = (√ᾱ − √ᾱ_T)·√ᾱ_1/(√ᾱ_1 − √ᾱ_T). Then convert back:
    ᾱ' = (√ᾱ')², α'_1 = ᾱ'_1, α'_t = ᾱ'_t/ᾱ'_{t−1}, betas' = 1 − α' (so the last beta is exactly 1).
    Returns (T,) in betas' dtype.
    """
    sqrt_ab = torch.cumprod(1 - betas.double(), dim=0).sqrt()  # √ᾱ, (T,)
    first, last = sqrt_ab[0].clone(), sqrt_ab[-1].clone()
    sqrt_ab = (sqrt_ab - last) * first / (first - last)  # shift: last → 0; scale: first unchanged
    ab = sqrt_ab ** 2  # ᾱ'
    alphas = torch.cat([ab[:1], ab[1:] / ab[:-1]])  # α'_t = ᾱ'_t/ᾱ'_{t−1}, α'_1 = ᾱ'_1
    return (1 - alphas).to(betas.dtype)  # β' = 1 − α'
