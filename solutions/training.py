r"""Training mechanics: the small pieces every training loop is made of.

Label smoothing trains against a softened target
$q = (1 - s)\,\mathrm{onehot}(y) + s/C$, so the cross-entropy $-\sum_k q_k \log p_k$
no longer rewards pushing one logit to infinity (Szegedy et al., *Rethinking the
Inception Architecture for Computer Vision*, arXiv:1512.00567).

Inverted dropout zeroes each activation with probability $p$ during training and
scales the survivors by $1/(1 - p)$, so $\mathbb E[\mathrm{out}] = x$ and inference
is the identity (Hinton et al., *Improving neural networks by preventing
co-adaptation of feature detectors*, arXiv:1207.0580).

Gradient-norm clipping rescales ALL gradients together when their global norm
$\lVert g\rVert = \sqrt{\sum_i \lVert g_i\rVert^2}$ exceeds a threshold $c$:
$g_i \leftarrow g_i \cdot c / (\lVert g\rVert + \epsilon)$, which keeps the update's direction
and bounds its length (Pascanu et al., *On the difficulty of training recurrent
neural networks*, arXiv:1211.5063).

The warmup-cosine learning-rate schedule rises linearly from 0 to the peak over
the first $W$ steps (Goyal et al., *Accurate, Large Minibatch SGD*, arXiv:1706.02677),
then follows half a cosine down to a floor:
$\eta_t = \eta_{\min} + \tfrac12(\eta_{\max} - \eta_{\min})(1 + \cos(\pi (t - W)/(T - W)))$
(Loshchilov & Hutter, *SGDR*, arXiv:1608.03983).

AdamW keeps Adam's bias-corrected moment estimates
$m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t$, $v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2$ and the step
$\theta \leftarrow \theta - \eta\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)$ (Kingma & Ba, *Adam*,
arXiv:1412.6980), but applies weight decay to the weights directly,
$\theta \leftarrow \theta (1 - \eta\lambda)$, instead of adding $\lambda\theta$ to the gradient
(Loshchilov & Hutter, *Decoupled Weight Decay Regularization*, arXiv:1711.05101).

Batch normalization standardizes each feature over the batch,
$y = \gamma (x - \mu_B)/\sqrt{\sigma_B^2 + \epsilon} + \beta$, and keeps running averages of the
batch statistics to use at inference (Ioffe & Szegedy, *Batch Normalization*,
arXiv:1502.03167).

Dynamic loss scaling for fp16 multiplies the loss by a scale $S$ so small
gradients do not underflow, divides the gradients by $S$ before the optimizer
step, halves $S$ (and skips the step) when a gradient overflows to inf/NaN, and
doubles it after a run of clean steps (Micikevicius et al., *Mixed Precision
Training*, arXiv:1710.03740; the rule of `torch.amp.GradScaler`).
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn


def smoothed_cross_entropy(logits: torch.Tensor, target: torch.Tensor, smoothing: float = 0.1,
                           ignore_index: int = -100) -> torch.Tensor:
    r"""Cross-entropy against label-smoothed targets, as `F.cross_entropy(..., label_smoothing=smoothing)`.

    logits: (N, C) unnormalized scores; target: (N,) int64 class indices in 0..C-1,
    or `ignore_index` for rows that must not count. The target distribution of a row
    with class y is (1 − s)·onehot(y) + s/C, the s/C going to ALL C classes (the
    true one included), so row n's loss is
        (1 − s)·(−log p[n, y]) + (s/C)·Σ_k (−log p[n, k]),   p = softmax(logits[n]).
    Returns the 0-dim mean over the rows whose target is not `ignore_index`, in
    logits' dtype. Must stay finite for logits of magnitude 1e4 (use log-softmax).
    """
    n_classes = logits.size(-1)
    log_p = torch.log_softmax(logits, dim=-1)  # (N, C), stable: x − logsumexp(x)
    keep = target != ignore_index  # (N,) rows that count
    safe_target = torch.where(keep, target, torch.zeros_like(target))  # any valid index for ignored rows
    nll = -log_p.gather(-1, safe_target.unsqueeze(-1)).squeeze(-1)  # (N,) −log p_y
    uniform = -log_p.sum(dim=-1) / n_classes  # (N,) (1/C) Σ_k −log p_k: cross-entropy with the uniform target
    per_row = (1.0 - smoothing) * nll + smoothing * uniform  # H(q, p) with q = (1 − s) onehot + s/C
    return (per_row * keep).sum() / keep.sum()  # mean over the kept rows only


def dropout(x: torch.Tensor, p: float, training: bool = True,
            generator: torch.Generator | None = None) -> torch.Tensor:
    r"""Inverted dropout, as `F.dropout(x, p, training)`.

    Each element of x is zeroed independently with probability p and every
    surviving element is scaled by 1/(1 − p), so the expected output is x.
    Draw the random numbers from `generator` when one is given (the same
    generator state must give the same mask), else from the global RNG.
    Identity (x itself or an equal copy) when `training` is False or p = 0;
    all zeros when p = 1 (no NaN). Returns x's shape and dtype; x is not modified.
    """
    if not training or p == 0.0:
        return x  # evaluation: the identity, no rescaling needed
    if p >= 1.0:
        return torch.zeros_like(x)  # everything dropped; avoids 0 · 1/0
    u = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)  # U[0, 1), one per element
    keep = u >= p  # P(keep) = 1 − p
    return x * keep / (1.0 - p)  # survivors x / (1 − p): E[out] = x


def clip_grad_norm(grads: list[torch.Tensor], max_norm: float,
                   eps: float = 1e-6) -> tuple[list[torch.Tensor], torch.Tensor]:
    r"""Clip a list of gradients by their global L2 norm, as `torch.nn.utils.clip_grad_norm_` (but out of place).

    grads: a list of tensors of any shapes. total_norm = √(Σ_i Σ_j grads[i][j]²),
    the norm of all of them concatenated, a 0-dim tensor. If total_norm > max_norm
    every tensor is multiplied by the same factor max_norm / (total_norm + eps);
    otherwise the tensors are returned with unchanged values. Returns
    (clipped, total_norm) with `clipped` a list of NEW tensors, in order, of the
    inputs' shapes and dtype; the inputs are not modified.
    """
    total_norm = torch.linalg.vector_norm(
        torch.stack([torch.linalg.vector_norm(g) for g in grads]))  # √(Σ_i ‖g_i‖²): global, not per tensor
    if total_norm > max_norm:
        coef = max_norm / (total_norm + eps)  # one factor for every tensor keeps the direction
        return [g * coef for g in grads], total_norm
    return [g.clone() for g in grads], total_norm


def warmup_cosine_lr(step: int, max_lr: float, warmup_steps: int, total_steps: int, min_lr: float = 0.0) -> float:
    r"""Learning rate at `step` (0-based) of a linear-warmup + cosine-decay schedule, as a Python float.

    step < warmup_steps:                  max_lr · step / warmup_steps (from 0, so below
                                          min_lr during warmup; warmup_steps = 0 means no warmup)
    warmup_steps ≤ step ≤ total_steps:    min_lr + ½(max_lr − min_lr)(1 + cos(π (step − warmup_steps)
                                          / (total_steps − warmup_steps)))  — max_lr at the end of
                                          warmup, min_lr at total_steps
    step > total_steps:                   min_lr
    Assumes total_steps > warmup_steps ≥ 0.
    """
    if step < warmup_steps:
        return max_lr * step / warmup_steps  # linear warmup from 0
    if step > total_steps:
        return min_lr  # hold the floor after the schedule ends
    progress = (step - warmup_steps) / (total_steps - warmup_steps)  # 0 → 1 over the decay phase
    return min_lr + 0.5 * (max_lr - min_lr) * (1.0 + math.cos(math.pi * progress))  # half a cosine


def adamw_step(param: torch.Tensor, grad: torch.Tensor, exp_avg: torch.Tensor, exp_avg_sq: torch.Tensor,
               step: int, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
               weight_decay: float = 1e-2) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""One AdamW update, as `torch.optim.AdamW.step()`, returning new tensors.

    param, grad, exp_avg (m), exp_avg_sq (v): tensors of one shape; m and v are the
    state after the previous update (zeros before the first). `step` is the 1-based
    count of THIS update (1 for the first), used in the bias corrections. In order:
        param ← param · (1 − lr · weight_decay)          (decoupled decay, not added to grad)
        m ← β1 m + (1 − β1) g;   v ← β2 v + (1 − β2) g²
        m̂ = m / (1 − β1^step);   v̂ = v / (1 − β2^step)
        param ← param − lr · m̂ / (√v̂ + eps)
    Returns (param, exp_avg, exp_avg_sq), new tensors of the inputs' shape and dtype;
    the inputs are not modified.
    """
    beta1, beta2 = betas
    param = param * (1.0 - lr * weight_decay)  # decoupled weight decay: θ ← θ(1 − ηλ)
    exp_avg = beta1 * exp_avg + (1.0 - beta1) * grad  # m_t = β1 m_{t−1} + (1 − β1) g_t
    exp_avg_sq = beta2 * exp_avg_sq + (1.0 - beta2) * grad * grad  # v_t = β2 v_{t−1} + (1 − β2) g_t²
    bias_correction1 = 1.0 - beta1 ** step  # m̂ = m / (1 − β1^t)
    bias_correction2 = 1.0 - beta2 ** step  # v̂ = v / (1 − β2^t)
    denom = exp_avg_sq.sqrt() / math.sqrt(bias_correction2) + eps  # √v̂ + ε (ε after the correction)
    param = param - (lr / bias_correction1) * exp_avg / denom  # θ ← θ − η m̂ / (√v̂ + ε)
    return param, exp_avg, exp_avg_sq


class BatchNorm1d(nn.Module):
    r"""Batch normalization over (B, C) inputs, as `nn.BatchNorm1d(num_features, eps, momentum)`.

    Parameters `weight` (C,) initialized to 1 and `bias` (C,) to 0; buffers
    (`register_buffer`) `running_mean` (C,) initialized to 0 and `running_var` (C,) to 1.

    forward(x), x of shape (B, C), returns (B, C):
    - training (`self.training`): normalize each feature with the batch mean and the
      BIASED batch variance (divide by B): weight · (x − μ)/√(σ² + eps) + bias, with
      gradients flowing through μ and σ²; then update, without autograd,
          running_mean ← (1 − momentum)·running_mean + momentum·μ
          running_var  ← (1 − momentum)·running_var  + momentum·σ²_unbiased  (divide by B − 1)
    - eval: the same formula with running_mean and running_var instead of the batch's.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1):
        super().__init__()
        self.eps = eps
        self.momentum = momentum
        self.weight = nn.Parameter(torch.ones(num_features))  # γ
        self.bias = nn.Parameter(torch.zeros(num_features))  # β
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            n = x.size(0)
            mean = x.mean(dim=0)  # (C,) μ_B
            var = (x - mean).pow(2).mean(dim=0)  # (C,) biased σ_B² = 1/B Σ (x − μ)², used to normalize
            with torch.no_grad():  # running statistics are not part of the graph
                m = self.momentum
                self.running_mean.mul_(1 - m).add_(m * mean)  # EMA of the batch mean
                self.running_var.mul_(1 - m).add_(m * var * n / (n - 1))  # EMA of the UNBIASED variance
        else:
            mean, var = self.running_mean, self.running_var  # inference: the running statistics
        x_hat = (x - mean) / torch.sqrt(var + self.eps)  # (B, C) standardized per feature
        return x_hat * self.weight + self.bias  # γ ⊙ x̂ + β


class LossScaler:
    r"""Dynamic loss scaling for fp16 training, following `torch.amp.GradScaler`'s update rule.

    Attribute `scale` (a float, or a 0-dim tensor) starts at `init_scale`. Per step: backward on
    loss · scale; `grads, found_inf = scaler.unscale(grads)`; skip the optimizer
    step if found_inf; then `scaler.update(found_inf)`.

    unscale(grads): grads a list of tensors; returns ([g / scale for g in grads],
        found_inf), found_inf true iff any element of any gradient is inf or NaN
        (a bool or a 0-dim bool tensor). Does not change the scale.
    update(found_inf): found_inf a bool or a 0-dim bool tensor.
        - overflow: scale ← scale · backoff_factor, and the count of consecutive
          clean steps is reset to 0;
        - clean step: the count goes up by 1; when it reaches `growth_interval`,
          scale ← scale · growth_factor and the count is reset to 0.
    """

    def __init__(self, init_scale: float = 65536.0, growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000):
        self.scale = float(init_scale)
        self.growth_factor = growth_factor
        self.backoff_factor = backoff_factor
        self.growth_interval = growth_interval
        self._clean_steps = 0  # consecutive steps without inf/NaN since the last change of scale

    def unscale(self, grads: list[torch.Tensor]) -> tuple[list[torch.Tensor], bool]:
        found_inf = any(not bool(torch.isfinite(g).all()) for g in grads)  # inf and NaN both overflow
        return [g / self.scale for g in grads], found_inf  # the true gradients: ∇(S·L)/S

    def update(self, found_inf: bool | torch.Tensor) -> None:
        if bool(found_inf):
            self.scale *= self.backoff_factor  # overflow: back off, restart the clean-step count
            self._clean_steps = 0
        else:
            self._clean_steps += 1
            if self._clean_steps == self.growth_interval:  # growth_interval clean steps in a row
                self.scale *= self.growth_factor
                self._clean_steps = 0
