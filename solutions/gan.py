r"""Generative adversarial networks: the losses, the optimal discriminator, the
WGAN-GP gradient penalty, one training step, and a small DCGAN.

A generator $G$ maps noise $z$ to samples; a discriminator $D$ outputs a logit
$\ell(x)$ with $D(x) = \sigma(\ell(x))$, the probability that $x$ is real. They
play the minimax game

$$\min_G \max_D\; V(D, G) = \mathbb E_{x\sim p_{\text{data}}}[\log D(x)]
  + \mathbb E_{z}[\log(1 - D(G(z)))].$$

For a fixed $G$ the best discriminator is $D^*(x) = p_{\text{data}}(x) / (p_{\text{data}}(x) + p_g(x))$,
and then $V(D^*, G) = -\log 4 + 2\,\mathrm{JSD}(p_{\text{data}} \,\|\, p_g)$. In
practice $G$ minimizes the non-saturating loss $-\mathbb E_z[\log D(G(z))]$,
which has the same fixed point but strong gradients when $D$ rejects the fakes.

Later GANs keep the game but change its pieces: the hinge loss (a margin of 1
on the logits; Geometric GAN, then SAGAN), spectral normalization
(each weight divided by its largest singular value, estimated by one power
iteration per step) and the R1 penalty $\tfrac\gamma2\,\mathbb E\,\|\nabla_x D(x)\|^2$ on real data.

Papers: Goodfellow et al., *Generative Adversarial Networks*, arXiv:1406.2661;
Radford et al. (DCGAN), arXiv:1511.06434; Gulrajani et al. (WGAN-GP), arXiv:1704.00028;
Lim & Ye (Geometric GAN, hinge loss), arXiv:1705.02894; Zhang et al. (SAGAN), arXiv:1805.08318;
Miyato et al. (spectral normalization), arXiv:1802.05957; Mescheder et al. (R1), arXiv:1801.04406.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

# ---------------------------------------------------------------------------
# Losses, on logits: log σ(ℓ) = −softplus(−ℓ) and log(1 − σ(ℓ)) = −softplus(ℓ),
# both finite for any ℓ (σ(ℓ) itself rounds to 0 or 1 for |ℓ| ≳ 17 in float32).
# ---------------------------------------------------------------------------

def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    r"""Mean BCE of `real_logits` against label 1 plus mean BCE of `fake_logits` against label 0.

    $$L_D = -\tfrac1{B_r}\sum\log\sigma(\ell_{\text{real}}) - \tfrac1{B_f}\sum\log(1-\sigma(\ell_{\text{fake}}))$$

    i.e. $-V(D, G)$ estimated on a batch: the discriminator *maximizes* V, so it
    *minimizes* this. Logits of any shape; the two batch sizes may differ, each
    term is averaged over its own batch. Returns a 0-dim tensor.
    """
    real_term = F.softplus(-real_logits).mean()  # −log σ(ℓ_real):       BCE(real → 1)
    fake_term = F.softplus(fake_logits).mean()   # −log(1 − σ(ℓ_fake)):  BCE(fake → 0)
    return real_term + fake_term


def generator_loss(fake_logits: torch.Tensor, non_saturating: bool = True) -> torch.Tensor:
    r"""The generator's loss on the discriminator's logits for generated samples; a 0-dim tensor.

    non-saturating (default): $-\tfrac1B\sum\log\sigma(\ell)$ — BCE(fake → 1);
    minimax (`non_saturating=False`): $\tfrac1B\sum\log(1-\sigma(\ell))$, the
    generator's side of V(D, G). When D confidently rejects the fakes
    ($\ell \to -\infty$) the minimax loss's gradient $-\sigma(\ell)$ vanishes,
    while the non-saturating one's, $-(1-\sigma(\ell))$, stays near −1.
    """
    if non_saturating:
        return F.softplus(-fake_logits).mean()  # −log σ(ℓ)
    return -F.softplus(fake_logits).mean()  # log(1 − σ(ℓ))


# ---------------------------------------------------------------------------
# Theory: the optimal discriminator and the Jensen–Shannon divergence
# ---------------------------------------------------------------------------

def optimal_discriminator(p_data: torch.Tensor, p_g: torch.Tensor) -> torch.Tensor:
    r"""$D^*(x) = p_{\text{data}}(x) / (p_{\text{data}}(x) + p_g(x))$, elementwise.

    Pointwise maximizer of $p_{\text{data}}\log D + p_g\log(1-D)$ (set the
    derivative $p_{\text{data}}/D - p_g/(1-D)$ to zero). Undefined where both
    densities are 0 (such points do not enter V).
    """
    return p_data / (p_data + p_g)


def jensen_shannon(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    r"""JSD of two discrete distributions given as 1-D probability vectors; a 0-dim tensor.

    $$\mathrm{JSD}(p\,\|\,q) = \tfrac12 \mathrm{KL}(p\,\|\,m) + \tfrac12 \mathrm{KL}(q\,\|\,m),\quad m = \tfrac12(p+q)$$

    in nats (natural log), with $0\log 0 = 0$; symmetric and in $[0, \log 2]$.
    """
    m = 0.5 * (p + q)

    def kl_to_m(a: torch.Tensor) -> torch.Tensor:
        # Σ a log(a/m); xlogy(0, ·) = 0, and m > 0 wherever a > 0
        return (torch.xlogy(a, a) - torch.xlogy(a, m)).sum()

    return 0.5 * kl_to_m(p) + 0.5 * kl_to_m(q)


# ---------------------------------------------------------------------------
# WGAN-GP
# ---------------------------------------------------------------------------

def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor,
                     alpha: torch.Tensor | None = None, weight: float = 10.0) -> torch.Tensor:
    r"""WGAN-GP penalty $\lambda\,\mathbb E_{\hat x}\big[(\|\nabla_{\hat x} f(\hat x)\|_2 - 1)^2\big]$; a 0-dim tensor.

    real, fake: (B, ...) with the same shape; `critic` maps (B, ...) to (B,) or (B, 1).
    $\hat x = \alpha\,x_{\text{real}} + (1-\alpha)\,x_{\text{fake}}$ with one
    $\alpha \sim U(0, 1)$ per example when `alpha` is None; a given `alpha` has
    shape (B, 1, ..., 1). The norm is over all non-batch dims. The result is
    differentiable w.r.t. the critic's parameters (double backprop), so it can
    be added to the critic's loss.
    """
    B = real.size(0)
    if alpha is None:
        alpha = torch.rand(B, *([1] * (real.dim() - 1)), dtype=real.dtype, device=real.device)  # (B, 1, ..., 1)
    # x̂ is an input point, not a function of G: cut it from G's graph, then ask for ∂f/∂x̂
    x_hat = (alpha * real + (1 - alpha) * fake).detach().requires_grad_(True)  # (B, ...)
    scores = critic(x_hat)
    # Σ_i f(x̂_i) has ∂/∂x̂_i = ∇f(x̂_i): each example's score depends only on its own input
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)  # (B, ...)
    grad_norm = grad.flatten(start_dim=1).norm(2, dim=1)  # (B,)
    return weight * (grad_norm - 1).pow(2).mean()


# ---------------------------------------------------------------------------
# One training step (alternating updates)
# ---------------------------------------------------------------------------

def train_step(G: nn.Module, D: nn.Module, opt_G: torch.optim.Optimizer, opt_D: torch.optim.Optimizer,
               real: torch.Tensor, z: torch.Tensor) -> tuple[float, float]:
    """One discriminator update, then one generator update; returns (d_loss, g_loss) as Python floats.

    D step: zero D's gradients; d_loss = mean BCE(D(real) → 1) + mean BCE(D(G(z).detach()) → 0)
    (the gan-discriminator-loss task); backward; `opt_D.step()`. The detach keeps the
    D loss from sending gradients into G.
    G step: zero G's gradients; g_loss = mean BCE(D(G(z)) → 1), the non-saturating
    loss (gan-generator-loss), on a fresh pass of the *updated* D; backward;
    `opt_G.step()`. Only opt_G steps here: D must not change.
    `.backward()` accumulates into `.grad`, hence the zeroing (the G step's
    backward also leaves gradients in D's parameters).
    """
    fake = G(z)  # (B, ...); G is not updated until the G step, so this graph stays valid

    # --- discriminator step: maximize V(D, G) ---
    opt_D.zero_grad()
    d_loss = discriminator_loss(D(real), D(fake.detach()))
    d_loss.backward()
    opt_D.step()

    # --- generator step: non-saturating loss through the updated D ---
    opt_G.zero_grad()
    g_loss = generator_loss(D(fake))
    g_loss.backward()
    opt_G.step()

    return d_loss.item(), g_loss.item()


# ---------------------------------------------------------------------------
# DCGAN for 8×8 single-channel images (e.g. sklearn's digits scaled to [−1, 1])
# ---------------------------------------------------------------------------

class DCGenerator(nn.Module):
    """z (B, z_dim) -> images (B, 1, 8, 8) in [−1, 1].

    Transposed convolutions double the resolution 2 -> 4 -> 8 while halving
    the channels (DCGAN: batch norm + ReLU inside, no batch norm and tanh at
    the output, so the range matches data scaled to [−1, 1]).
    """

    def __init__(self, z_dim: int, base: int = 32):
        super().__init__()
        assert z_dim > 0 and base > 0
        self.z_dim = z_dim
        self.net = nn.Sequential(
            # (B, z_dim, 1, 1) -> (B, 2·base, 2, 2): a "projection" of z to a tiny feature map
            nn.ConvTranspose2d(z_dim, 2 * base, kernel_size=2, stride=1, padding=0, bias=False),
            nn.BatchNorm2d(2 * base),
            nn.ReLU(),
            # -> (B, base, 4, 4): kernel 4, stride 2, padding 1 exactly doubles H and W
            nn.ConvTranspose2d(2 * base, base, kernel_size=4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(base),
            nn.ReLU(),
            # -> (B, 1, 8, 8)
            nn.ConvTranspose2d(base, 1, kernel_size=4, stride=2, padding=1),
            nn.Tanh(),  # data live in [−1, 1]; a sigmoid could never output the background value −1
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        B = z.size(0)
        return self.net(z.view(B, self.z_dim, 1, 1))  # (B, 1, 8, 8)


class DCDiscriminator(nn.Module):
    """images (B, 1, 8, 8) -> logits (B,).

    Strided convolutions halve the resolution 8 -> 4 -> 2 (no pooling), LeakyReLU(0.2),
    batch norm except on the input layer, and a final 2×2 convolution to one
    logit per image. No sigmoid: the losses take logits.
    """

    def __init__(self, base: int = 32):
        super().__init__()
        assert base > 0
        self.net = nn.Sequential(
            nn.Conv2d(1, base, kernel_size=4, stride=2, padding=1),  # (B, base, 4, 4)
            nn.LeakyReLU(0.2),
            nn.Conv2d(base, 2 * base, kernel_size=4, stride=2, padding=1, bias=False),  # (B, 2·base, 2, 2)
            nn.BatchNorm2d(2 * base),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * base, 1, kernel_size=2, stride=1, padding=0),  # (B, 1, 1, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.shape[1:] == (1, 8, 8), f"expected (B, 1, 8, 8) images, got {tuple(x.shape)}"
        return self.net(x).flatten()  # (B,)


# ---------------------------------------------------------------------------
# Hinge loss (Geometric GAN, SAGAN)
# ---------------------------------------------------------------------------

def hinge_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    r"""The discriminator's hinge loss; a 0-dim tensor.

    $$L_D = \tfrac1{B_r}\sum \max(0, 1 - \ell_{\text{real}}) + \tfrac1{B_f}\sum \max(0, 1 + \ell_{\text{fake}})$$

    Logits of any shape (raw scores, no sigmoid); the two batch sizes may differ and
    each term is averaged over its own batch. A real logit above +1 or a fake
    logit below −1 costs nothing and gets no gradient: D stops pushing examples
    it already separates by the margin.
    """
    real_term = F.relu(1.0 - real_logits).mean()  # max(0, 1 − ℓ_real): real should score ≥ +1
    fake_term = F.relu(1.0 + fake_logits).mean()  # max(0, 1 + ℓ_fake): fake should score ≤ −1
    return real_term + fake_term


def hinge_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    r"""The generator's loss under the hinge GAN: $L_G = -\tfrac1B\sum \ell_{\text{fake}}$; a 0-dim tensor.

    No margin and no clipping on the generator's side: every fake logit keeps a
    gradient of −1/B, however well D already rates it.
    """
    return -fake_logits.mean()  # −E[ℓ(G(z))]


# ---------------------------------------------------------------------------
# Spectral normalization: one power iteration per training step
# ---------------------------------------------------------------------------

def spectral_norm_step(W: torch.Tensor, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""One power iteration (Miyato et al.) estimating W's largest singular value; returns (sigma, u_new).

    W: (out, in); u: (out,), the running estimate of the top left singular vector.

        v = normalize(Wᵀ u)                    (in,)
        u_new = normalize(W v)                 (out,)
        sigma = u_newᵀ W v                     0-dim

    normalize(a) = a / ‖a‖₂. Repeating the step (feeding u_new back as u)
    converges to σ_max(W) = ‖W‖₂ when the top singular value is separated;
    spectral normalization then uses W / sigma. The inputs are not modified.
    """
    v = F.normalize(W.T @ u, dim=0)  # v = Wᵀu / ‖Wᵀu‖,  (in,)
    u_new = F.normalize(W @ v, dim=0)  # u = Wv / ‖Wv‖,  (out,)
    sigma = u_new @ (W @ v)  # σ = uᵀ W v (= ‖Wv‖),  0-dim
    return sigma, u_new


# ---------------------------------------------------------------------------
# R1: a zero-centred gradient penalty on the real data
# ---------------------------------------------------------------------------

def r1_penalty(discriminator: nn.Module, real: torch.Tensor, gamma: float = 10.0) -> torch.Tensor:
    r"""R1 regularizer (Mescheder et al.) $\tfrac\gamma2\,\mathbb E_{x\sim p_{\text{data}}}\|\nabla_x D(x)\|_2^2$; a 0-dim tensor.

    real: (B, ...) real data; `discriminator` maps (B, ...) to logits (B,) or (B, 1).
    The gradient is taken at the real samples themselves (no interpolation, no
    fakes); its squared L2 norm is summed over all non-batch dims, averaged over
    the batch and multiplied by gamma / 2. The result is differentiable w.r.t.
    the discriminator's parameters (double backprop), so it can be added to D's
    loss. `real` is not modified.
    """
    x = real.detach().requires_grad_(True)  # a leaf copy: ask for ∂D/∂x without touching the caller's tensor
    scores = discriminator(x)
    # Σ_i D(x_i) has ∂/∂x_i = ∇D(x_i): each example's score depends only on its own input
    (grad,) = torch.autograd.grad(scores.sum(), x, create_graph=True)  # (B, ...)
    grad_sq = grad.flatten(start_dim=1).pow(2).sum(dim=1)  # ‖∇_x D(x_i)‖²,  (B,)
    return 0.5 * gamma * grad_sq.mean()  # (γ/2) · mean_i ‖∇_x D(x_i)‖²
