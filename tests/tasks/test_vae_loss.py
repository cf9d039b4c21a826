"""vae-loss: negative ELBO with a Bernoulli decoder, β on the KL term only, mean over the batch."""
import torch
import torch.nn.functional as F
from torch.distributions import Normal, kl_divergence

from genprep.learner.checks import expect, expect_scalar

HINT = ("Per example: BCE-with-logits SUMMED over all non-batch dims + β·KL(N(μ, σ²) ‖ N(0, I)) SUMMED over "
        "latent dims, with KL = −½Σ(1 + logvar − μ² − exp(logvar)); then the mean over the batch.")


def recon_oracle(x, x_logits):
    per_elem = F.binary_cross_entropy_with_logits(x_logits.double(), x.double(), reduction="none")
    return per_elem.reshape(x.size(0), -1).sum(1)  # (B,)


def kl_oracle(mu, logvar):
    q = Normal(mu.double(), (0.5 * logvar.double()).exp())
    p = Normal(torch.zeros_like(mu, dtype=torch.float64), torch.ones_like(mu, dtype=torch.float64))
    return kl_divergence(q, p).sum(-1)  # (B,)


def oracle(x, x_logits, mu, logvar, beta=1.0):
    return (recon_oracle(x, x_logits) + beta * kl_oracle(mu, logvar)).mean()


def likely_mistakes(x, x_logits, mu, logvar):
    """What common mistakes give, each with its cause (genprep.learner.checks.expect_close(likely=...))."""
    bce = F.binary_cross_entropy_with_logits(x_logits.double(), x.double(), reduction="none").reshape(x.size(0), -1)
    kl = kl_oracle(mu, logvar)
    kl_logvar = -0.5 * (1 + logvar.double() - mu.double() ** 2 - logvar.double()).sum(-1)
    return (((bce.mean(1) + kl).mean().float(), "averaging the reconstruction over the pixels gives (.mean() "
                                                "where the ELBO needs the SUM over the pixels of each example)."),
            ((bce.sum(1) + kl).sum().float(), "summing over the batch gives; take the mean over the batch."),
            ((bce.sum(1) + kl_logvar).mean().float(), "a KL with logvar in place of exp(logvar) gives; the KL's last "
                                                      "term is exp(logvar), the variance."),
            ((bce.sum(1) - kl).mean().float(), "subtracting the KL gives; the loss ADDS β·KL."))


def case(seed, B=4, image=(1, 3, 3), z_dim=5, soft=False):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(B, *image, generator=g)
    x = x if soft else (x > 0.5).float()
    x_logits = 3 * torch.randn(B, *image, generator=g)
    mu = torch.randn(B, z_dim, generator=g)
    logvar = torch.randn(B, z_dim, generator=g)
    return x, x_logits, mu, logvar


def test_matches_the_oracle_on_image_shaped_inputs(impl):
    x, x_logits, mu, logvar = case(0)
    got = impl.vae_loss(x, x_logits, mu, logvar)
    expect_scalar(got, oracle(x, x_logits, mu, logvar), "vae_loss(x (4, 1, 3, 3), x_logits, mu (4, 5), logvar)",
                  atol=1e-4, rtol=1e-5, hint=HINT, likely=likely_mistakes(x, x_logits, mu, logvar))


def test_beta_zero_is_the_summed_reconstruction_term(impl):
    x, x_logits, mu, logvar = case(1, B=3, image=(8,))
    expect_scalar(impl.vae_loss(x, x_logits, mu, logvar, beta=0.0), recon_oracle(x, x_logits).mean(),
                  "vae_loss(..., beta=0), the reconstruction term alone", atol=1e-4, rtol=1e-5,
                  hint="The reconstruction term is the BCE SUMMED over the pixels of each example (not averaged), "
                       "then averaged over the batch; β must not touch it.")


def test_beta_scales_only_the_kl_term(impl):
    x, x_logits, mu, logvar = case(2, soft=True)
    for beta in (0.25, 4.0):
        expect_scalar(impl.vae_loss(x, x_logits, mu, logvar, beta=beta), oracle(x, x_logits, mu, logvar, beta),
                      f"vae_loss(..., beta={beta})", atol=1e-4, rtol=1e-5,
                      hint="β multiplies the KL term only: loss = recon + β·KL. " + HINT)
    slope = impl.vae_loss(x, x_logits, mu, logvar, beta=3.0) - impl.vae_loss(x, x_logits, mu, logvar, beta=1.0)
    expect_scalar(slope, 2.0 * kl_oracle(mu, logvar).mean(), "vae_loss(beta=3) − vae_loss(beta=1)",
                  atol=1e-4, rtol=1e-4, hint="Raising β by 2 must add exactly 2 × (mean KL), a positive amount: "
                                             "the KL is added (minimized), never subtracted.")


def test_kl_with_small_and_large_variances(impl):
    x, x_logits, _, _ = case(3, B=2, image=(4,))
    mu = torch.tensor([[0.0, 1.5, -0.5, 0.0], [2.0, 0.0, 0.3, -1.0]])
    logvar = torch.tensor([[-6.0, -3.0, 0.0, 2.5], [1.0, -8.0, -0.5, 0.0]])
    expect_scalar(impl.vae_loss(x, x_logits, mu, logvar), oracle(x, x_logits, mu, logvar),
                  "vae_loss with latent logvar from -8 to 2.5", atol=1e-4, rtol=1e-5, hint=HINT,
                  likely=likely_mistakes(x, x_logits, mu, logvar))
    expect_scalar(impl.vae_loss(x, x_logits, torch.zeros(2, 4), torch.zeros(2, 4)), recon_oracle(x, x_logits).mean(),
                  "vae_loss with q(z|x) = N(0, I) (the KL term is 0)", atol=1e-4, rtol=1e-5, hint=HINT)


def test_confident_logits_stay_finite(impl):
    # A trained Bernoulli decoder outputs logits like ±20, where sigmoid rounds to exactly 0 or 1 in float32.
    x = torch.tensor([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0]])
    x_logits = torch.tensor([[20.0, -20.0, -25.0, 30.0], [-40.0, 18.0, 22.0, -19.0]])
    mu, logvar = torch.zeros(2, 3), torch.zeros(2, 3)
    got = impl.vae_loss(x, x_logits, mu, logvar)
    expect(isinstance(got, torch.Tensor) and bool(torch.isfinite(got).all()),
           f"vae_loss with decoder logits of magnitude 20–40 returned {got!r}; compute the BCE from the logits "
           "(F.binary_cross_entropy_with_logits), not log(sigmoid(·)).")
    expect_scalar(got, oracle(x, x_logits, mu, logvar), "vae_loss with confident decoder logits", atol=1e-3,
                  rtol=1e-5, hint=HINT)
