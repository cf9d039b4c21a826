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
"""
from __future__ import annotations

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
