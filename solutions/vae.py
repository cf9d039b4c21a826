r"""Variational autoencoder: the reparameterization trick, the negative ELBO,
and a small MLP VAE.

A VAE fits a latent-variable model $p_\theta(x) = \int p_\theta(x\mid z)\,p(z)\,dz$
with prior $p(z) = \mathcal N(0, I)$. An encoder outputs an approximate posterior
$q_\phi(z\mid x) = \mathcal N(\mu_\phi(x), \operatorname{diag}\sigma^2_\phi(x))$ and
encoder and decoder are trained *jointly* by maximizing the evidence lower bound

$$\log p_\theta(x) \ge \mathbb E_{q_\phi(z\mid x)}[\log p_\theta(x\mid z)]
  - D_{\mathrm{KL}}\big(q_\phi(z\mid x)\,\|\,p(z)\big).$$

The expectation is estimated with one sample written as
$z = \mu + \sigma\odot\varepsilon$, $\varepsilon\sim\mathcal N(0, I)$, so that
gradients flow through $\mu$ and $\sigma$ to the encoder. To generate, draw
$z\sim\mathcal N(0, I)$ and run the **decoder** only.

Paper: Kingma & Welling, *Auto-Encoding Variational Bayes*, arXiv:1312.6114.

Beyond the Gaussian VAE: the **IWAE bound** averages $K$ importance weights inside the log,
$\mathcal L_K = \log\frac1K\sum_k p(x, z_k)/q(z_k\mid x) \ge$ ELBO (Burda, Grosse & Salakhutdinov,
arXiv:1509.00519); the **Gumbel-softmax** (Concrete) relaxation makes samples of a categorical latent
differentiable, $y = \mathrm{softmax}((\ell + g)/\tau)$ with Gumbel noise $g$ (Jang, Gu & Poole, arXiv:1611.01144;
Maddison, Mnih & Teh, arXiv:1611.00712); **VQ-VAE** snaps each encoder output to its nearest codebook vector and
copies gradients straight through (van den Oord, Vinyals & Kavukcuoglu, arXiv:1711.00937).
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from solutions.losses import kl_normal


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor | None = None) -> torch.Tensor:
    r"""z = μ + σ ⊙ ε with σ = exp(½·logvar) the standard deviation; ε ~ N(0, I) when not given.

    mu, logvar, eps: same shape, e.g. (B, z_dim). The result is differentiable
    in mu and logvar: ∂z/∂μ = 1 and ∂z/∂logvar = ½·σ·ε.
    """
    if eps is None:
        eps = torch.randn_like(mu)
    std = torch.exp(0.5 * logvar)  # σ = sqrt(e^{logvar}); e^{logvar} itself is the variance
    return mu + std * eps


def vae_loss(x: torch.Tensor, x_logits: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
             beta: float = 1.0) -> torch.Tensor:
    r"""Negative ELBO with a Bernoulli decoder, averaged over the batch; a 0-dim tensor.

    x, x_logits: (B, ...) with x in [0, 1]; mu, logvar: (B, z_dim). Per example:
    BCE-with-logits summed over all non-batch dims, plus β times the KL to
    N(0, I) summed over the latent dims. β multiplies the KL term only.
    """
    B = x.size(0)
    recon = F.binary_cross_entropy_with_logits(x_logits, x, reduction="none").reshape(B, -1).sum(dim=1)  # (B,)
    kl = kl_normal(mu, logvar)  # (B,) = -½ Σ_j (1 + logvar_j - μ_j² - e^{logvar_j})
    return (recon + beta * kl).mean()


class VAE(nn.Module):
    """An MLP VAE on flattened inputs (B, x_dim) with a Bernoulli decoder.

    encode(x) -> (mu, logvar), each (B, z_dim); decode(z) -> x_logits (B, x_dim);
    forward(x) -> (self.decode(z), mu, logvar) with z = mu + exp(½ logvar)·ε;
    sample(n, generator=None) -> sigmoid(self.decode(z)) for z ~ N(0, I) drawn
    with `generator`, probabilities of shape (n, x_dim).
    """

    def __init__(self, x_dim: int, z_dim: int, hidden: int = 128):
        super().__init__()
        assert x_dim > 0 and z_dim > 0 and hidden > 0, "dimensions must be positive"
        self.x_dim, self.z_dim = x_dim, z_dim
        self.encoder = nn.Sequential(nn.Linear(x_dim, hidden), nn.ReLU())
        self.fc_mu = nn.Linear(hidden, z_dim)
        self.fc_logvar = nn.Linear(hidden, z_dim)  # log σ²: any real number, so σ² > 0 always
        self.decoder = nn.Sequential(nn.Linear(z_dim, hidden), nn.ReLU(), nn.Linear(hidden, x_dim))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, x_dim) -> (mu, logvar), the parameters of q(z | x), each (B, z_dim)."""
        h = self.encoder(x)  # (B, hidden)
        return self.fc_mu(h), self.fc_logvar(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, z_dim) -> x_logits (B, x_dim), the logits of p(x | z)."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x (B, x_dim) -> (x_logits, mu, logvar); z is drawn with the reparameterization trick."""
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar)  # (B, z_dim), differentiable in mu and logvar
        return self.decode(z), mu, logvar

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n new samples as pixel probabilities in [0, 1], shape (n, x_dim).

        Generation uses the prior and the decoder only: z ~ N(0, I), then
        sigmoid(self.decode(z)). The encoder plays no part.
        """
        param = next(self.parameters())
        z = torch.randn(n, self.z_dim, generator=generator, dtype=param.dtype, device=param.device)
        return torch.sigmoid(self.decode(z))


def iwae_bound(log_p_xz: torch.Tensor, log_q_zx: torch.Tensor) -> torch.Tensor:
    r"""The importance-weighted (IWAE) bound of each example, computed stably in log space.

    log_p_xz, log_q_zx: (B, K) — log p(x, z_k) and log q(z_k | x) for K samples z_k ~ q(z | x) of each of the B
    examples. With log-weights log w_k = log p(x, z_k) − log q(z_k | x), returns (B,)

        L_K = log( (1/K) Σ_k w_k ) = logsumexp_k(log w_k) − log K

    (the 1/K matters: a plain logsumexp overshoots by log K). Never exponentiate the raw log-weights: they are
    often around −1e4 (exp underflows to 0) or large and positive (exp overflows); shift by each row's own max or
    use torch.logsumexp. K = 1 gives the single-sample ELBO log p − log q. Differentiable; inputs not modified.
    """
    log_w = log_p_xz - log_q_zx  # (B, K) log importance weights
    K = log_w.size(-1)
    return torch.logsumexp(log_w, dim=-1) - math.log(K)  # (B,): log mean_k w_k, max-shifted inside logsumexp


def gumbel_softmax(logits: torch.Tensor, tau: float | torch.Tensor = 1.0, hard: bool = False,
                   gumbels: torch.Tensor | None = None) -> torch.Tensor:
    r"""A differentiable (relaxed) sample of the categorical distribution softmax(logits), over the last dim.

    logits: (..., K) unnormalized log-probabilities. gumbels: (..., K) standard Gumbel noise
    g = −log(−log U), U ~ Uniform(0, 1), drawn fresh when None (pass it in for reproducible results).

        y = softmax((logits + g) / tau, dim=-1)

    — the temperature divides the SUM of logits and noise. tau (> 0, a float or a 0-dim tensor) → 0 makes y
    one-hot (the Gumbel-max sample argmax(logits + g), distributed as softmax(logits)); large tau makes it uniform.
    hard=True (straight-through): the returned VALUE is the one-hot vector of argmax y (one at the argmax, zeros
    elsewhere, up to float rounding of the trick below), while the GRADIENT is that of the soft y, e.g.
    y_hard − y.detach() + y. Returns logits' shape and dtype; inputs not modified.
    """
    if gumbels is None:
        tiny = torch.finfo(logits.dtype).tiny
        u = torch.rand_like(logits).clamp(min=tiny, max=1.0 - torch.finfo(logits.dtype).eps)  # U in (0, 1)
        gumbels = -torch.log(-torch.log(u))  # standard Gumbel: g = −log(−log U)
    y = torch.softmax((logits + gumbels) / tau, dim=-1)  # relaxed sample: softmax((ℓ + g)/τ)
    if hard:
        index = y.argmax(dim=-1, keepdim=True)  # (..., 1)
        y_hard = torch.zeros_like(y).scatter(-1, index, 1.0)  # one-hot of argmax y
        y = y_hard - y.detach() + y  # straight-through: value of y_hard, gradient of y
    return y


def vector_quantize(z_e: torch.Tensor, codebook: torch.Tensor,
                    beta: float = 0.25) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""VQ-VAE's quantizer: nearest codebook vector, straight-through gradient, codebook + commitment loss.

    z_e: (B, N, D) encoder outputs (N vectors of size D per example); codebook: (K, D), one code per row.
    Returns (z_q, indices, loss):

    - indices (B, N), an integer dtype (e.g. int64): the code nearest to each z_e[b, n] in squared Euclidean
      distance ‖z_e − e_k‖² (not the largest dot product);
    - z_q (B, N, D): the chosen codes e = codebook[indices] in value, with the straight-through gradient
      z_q = z_e + (e − z_e).detach(), so ∂z_q/∂z_e is the identity and z_q sends no gradient to the codebook;
    - loss, 0-dim: mean((sg[z_e] − e)²) + beta · mean((z_e − sg[e])²), sg = stop-gradient (.detach()), each mean
      over all B·N·D elements (as F.mse_loss). The first (codebook) term moves only the codes towards the encoder
      outputs; the second (commitment) term, scaled by beta, moves only the encoder towards its codes.

    Inputs are not modified.
    """
    B, N, D = z_e.shape
    flat = z_e.reshape(B * N, D)  # (B·N, D)
    dist = (flat.pow(2).sum(1, keepdim=True)  # ‖z‖²            (B·N, 1)
            - 2 * flat @ codebook.t()  # − 2 z·e_k          (B·N, K)
            + codebook.pow(2).sum(1)[None, :])  # + ‖e_k‖²   (1, K)  → ‖z − e_k‖²
    indices = dist.argmin(dim=1).reshape(B, N)  # (B, N) nearest code
    e = codebook[indices]  # (B, N, D) the chosen codes
    codebook_loss = F.mse_loss(e, z_e.detach())  # mean ‖sg[z_e] − e‖²: trains the codebook only
    commitment_loss = F.mse_loss(z_e, e.detach())  # mean ‖z_e − sg[e]‖²: trains the encoder only
    z_q = z_e + (e - z_e).detach()  # straight-through: value e, gradient of the identity w.r.t. z_e
    return z_q, indices, codebook_loss + beta * commitment_loss
