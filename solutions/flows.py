r"""Flows and scores: flow matching, denoising score matching, Langevin dynamics, affine coupling.

**Flow matching** (Lipman et al., arXiv:2210.02747; rectified flow, Liu et al., arXiv:2209.03003) learns a
velocity field $v_\theta(x, t)$ whose ODE $\dot x = v_\theta(x, t)$ carries noise ($t = 0$) to data
($t = 1$). On the straight path $x_t = (1-t)\,x_0 + t\,x_1$ the conditional velocity is $x_1 - x_0$, and
regressing on it gives the marginal field:

$$\mathcal L_{\text{FM}} = \mathbb E_{t, x_0, x_1}\,\big\|v_\theta(x_t, t) - (x_1 - x_0)\big\|^2 .$$

**Denoising score matching** (Vincent 2011, doi:10.1162/NECO_a_00142; NCSN, Song & Ermon,
arXiv:1907.05600) learns the score of the noised data $\tilde x = x + \sigma\varepsilon$ by regressing on
the known conditional score $-\varepsilon/\sigma$, weighted by $\sigma^2$:
$\tfrac12\sigma^2\,\|s_\theta(\tilde x, \sigma) + \varepsilon/\sigma\|^2$.

**Langevin dynamics** samples with a score alone:
$x \leftarrow x + \tfrac\eta2\,\nabla_x\log p(x) + \sqrt\eta\,z$, $z \sim \mathcal N(0, I)$.

**Affine coupling** (RealNVP, Dinh et al., arXiv:1605.08803) is an invertible layer with a triangular
Jacobian: the dims selected by a mask $m$ pass through and parameterize a scale and shift of the others,
$y = x \odot m + (1-m)\odot\big(x \odot e^{s(x \odot m)} + t(x \odot m)\big)$, so
$\log|\det J| = \sum_j s_j$ over the transformed dims.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn


def _per_example(t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(B,) → (B, 1, ..., 1), broadcasting against `like` (B, ...)."""
    return t.reshape(-1, *([1] * (like.dim() - 1))).to(like.dtype)


def flow_matching_loss(model, x1: torch.Tensor, x0: torch.Tensor | None = None,
                       t: torch.Tensor | None = None) -> torch.Tensor:
    r"""Conditional flow-matching loss on the straight (rectified-flow) path from noise x0 to data x1.

    x1: (B, ...) data. x0: (B, ...) noise, drawn N(0, I) when None. t: (B,) times in [0, 1], one per
    example, drawn U(0, 1) when None. With x_t = (1 − t)·x0 + t·x1 (t broadcast over the non-batch dims),
    the target velocity is x1 − x0 and the loss is the mean squared error over ALL elements:
    mean((model(x_t, t) − (x1 − x0))²). `model(x_t, t)` gets t of shape (B,). Returns a 0-dim tensor.
    """
    if x0 is None:
        x0 = torch.randn_like(x1)  # x0 ~ N(0, I)
    if t is None:
        t = torch.rand(x1.shape[0], dtype=x1.dtype, device=x1.device)  # t ~ U(0, 1), one per example
    tb = _per_example(t, x1)  # (B, 1, ..., 1)
    x_t = (1 - tb) * x0 + tb * x1  # x_t = (1 − t)·x0 + t·x1
    target = x1 - x0  # d x_t / dt along the straight path
    return (model(x_t, t) - target).pow(2).mean()  # MSE over all elements


def euler_sample(model, x0: torch.Tensor, steps: int) -> torch.Tensor:
    r"""Integrate dx/dt = model(x, t) from t = 0 to t = 1 with `steps` equal Euler steps.

    x0: (B, ...) starting points (noise). Step k = 0…steps−1 evaluates the model at the LEFT end
    t_k = k/steps, passed as a (B,) tensor, and updates x ← x + (1/steps)·model(x, t_k).
    Returns the final x, (B, ...).
    """
    x = x0
    dt = 1.0 / steps
    for k in range(steps):
        t = torch.full((x.shape[0],), k * dt, dtype=x.dtype, device=x.device)  # t_k = k/steps, (B,)
        x = x + dt * model(x, t)  # explicit Euler: x_{k+1} = x_k + Δt·v(x_k, t_k)
    return x


def dsm_loss(score_model, x: torch.Tensor, sigma: float, noise: torch.Tensor | None = None) -> torch.Tensor:
    r"""Denoising score matching (Vincent 2011) at one noise level σ, with NCSN's σ² weighting.

    x: (B, ...) clean data; sigma: a positive Python float; noise: (B, ...) standard normal ε, drawn
    when None. Perturb x̃ = x + σ·ε, call `score_model(x̃, sigma)` (returns (B, ...)), and regress it on
    the conditional score ∇ log q(x̃ | x) = −ε/σ:

        loss = mean over the batch of ½·σ²·‖score_model(x̃, σ) + ε/σ‖²,

    the squared norm summed over all non-batch dims. Returns a 0-dim tensor.
    """
    if noise is None:
        noise = torch.randn_like(x)  # ε ~ N(0, I)
    x_tilde = x + sigma * noise  # x̃ = x + σε
    score = score_model(x_tilde, sigma)  # s_θ(x̃, σ), (B, ...)
    sq_norm = (score + noise / sigma).pow(2).flatten(1).sum(dim=1)  # ‖s + ε/σ‖², (B,)
    return (0.5 * sigma ** 2 * sq_norm).mean()  # λ(σ) = σ², batch mean


def langevin_step(x: torch.Tensor, score: torch.Tensor, step_size: float, noise: torch.Tensor) -> torch.Tensor:
    r"""One step of (unadjusted) Langevin dynamics: x + (η/2)·score + √η·noise, with η = step_size.

    x, score, noise: the same shape; score = ∇ log p(x) at x, noise a standard normal draw. Note the
    noise scale √η (not η): the drift moves O(η), the diffusion O(√η). Returns x's shape.
    """
    return x + 0.5 * step_size * score + math.sqrt(step_size) * noise  # x + (η/2)∇log p + √η z


def langevin_sample(score_fn, x0: torch.Tensor, step_size: float, n_steps: int,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    r"""Run `n_steps` Langevin steps from x0 with the score `score_fn(x)` and return the final x.

    Each step draws fresh standard normal noise of x's shape from `generator` (the global RNG when None),
    e.g. torch.randn(x.shape, generator=generator, dtype=x.dtype), and applies `langevin_step`. With the
    same seeded generator the result is reproducible. For small η the chain samples approximately from p;
    the discretization leaves a bias that vanishes as η → 0 (no Metropolis correction).
    """
    x = x0
    for _ in range(n_steps):
        noise = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)  # z ~ N(0, I)
        x = langevin_step(x, score_fn(x), step_size, noise)
    return x


class AffineCoupling(nn.Module):
    r"""RealNVP affine coupling layer (Dinh et al., arXiv:1605.08803) with a binary mask.

    `mask` (dim,) float of 0/1: the dims where m = 1 pass through unchanged and condition the others.
    A small net of your choice (here Linear(dim, hidden) → Tanh → Linear(hidden, 2·dim)) maps x·m to
    (log_s, t), each (B, dim), and both are multiplied by (1 − m). Then

        forward:  y = x·m + (1 − m)·(x·exp(log_s) + t),   log_det = Σ_j log_s_j per example, (B,)
        inverse:  x = y·m + (1 − m)·(y − t)·exp(−log_s), with (log_s, t) = net(y·m)  (y·m = x·m)

    x, y: (B, dim). The Jacobian is triangular (after ordering the masked dims first), so
    log|det J| is the sum of the log-scales of the transformed dims. `forward` returns (y, log_det).
    """

    def __init__(self, dim: int, hidden: int, mask: torch.Tensor):
        """mask: (dim,) float 0/1; hidden: the width of the net that outputs (log_s, t)."""
        super().__init__()
        assert mask.shape == (dim,)
        self.register_buffer("mask", mask.detach().clone().float())  # (dim,), 1 = pass through
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, 2 * dim))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, dim) → (y (B, dim), log_det (B,)), log_det = log|det ∂y/∂x| per example."""
        m = self.mask
        log_s, t = self.net(x * m).chunk(2, dim=-1)  # (B, dim) each, conditioned on the pass-through dims only
        log_s, t = log_s * (1 - m), t * (1 - m)  # zero on the pass-through dims
        y = x * m + (1 - m) * (x * torch.exp(log_s) + t)  # y = x·m + (1 − m)·(x·e^{log s} + t)
        return y, log_s.sum(dim=-1)  # log|det J| = Σ log_s, (B,)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        """y (B, dim) → x (B, dim) with forward(x)[0] = y."""
        m = self.mask
        log_s, t = self.net(y * m).chunk(2, dim=-1)  # y·m = x·m: the same (log_s, t) as in forward
        log_s, t = log_s * (1 - m), t * (1 - m)
        return y * m + (1 - m) * (y - t) * torch.exp(-log_s)  # undo the shift, then the scale
