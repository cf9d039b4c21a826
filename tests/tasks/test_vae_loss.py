"""vae-loss: negative ELBO with a Bernoulli decoder, β on the KL term only, mean over the batch."""
import torch
import torch.nn.functional as F
from torch.distributions import Normal, kl_divergence

from genprep.learner.checks import expect, expect_scalar, say

HINT = say(en="Per example: BCE-with-logits SUMMED over all non-batch dims + β·KL(N(μ, σ²) ‖ N(0, I)) SUMMED over "
              "latent dims, with KL = −½Σ(1 + logvar − μ² − exp(logvar)); then the mean over the batch.",
           zh="对每个样本：BCE-with-logits 在所有非 batch 维上求和，加上 β·KL(N(μ, σ²) ‖ N(0, I)) 在隐变量各维上求和，"
              "其中 KL = −½Σ(1 + logvar − μ² − exp(logvar))；最后在 batch 上取均值。")
RECON = say(en="The reconstruction term is the BCE (from the logits) SUMMED over the pixels of each example, not "
               "averaged (reduction='none', then .sum over the non-batch dims), then averaged over the batch; β must "
               "not touch it.",
            zh="重构项是（由 logits 算出的）BCE 在每个样本的所有像素上求和，而不是取均值（reduction='none' 后在非 batch "
               "维上 .sum），再在 batch 上取均值；β 不能乘在重构项上。")


def recon_oracle(x, x_logits):
    per_elem = F.binary_cross_entropy_with_logits(x_logits.double(), x.double(), reduction="none")
    return per_elem.reshape(x.size(0), -1).sum(1)  # (B,)


def kl_oracle(mu, logvar):
    q = Normal(mu.double(), (0.5 * logvar.double()).exp())
    p = Normal(torch.zeros_like(mu, dtype=torch.float64), torch.ones_like(mu, dtype=torch.float64))
    return kl_divergence(q, p).sum(-1)  # (B,)


def oracle(x, x_logits, mu, logvar, beta=1.0):
    return (recon_oracle(x, x_logits) + beta * kl_oracle(mu, logvar)).mean()


def likely_mistakes(x, x_logits, mu, logvar, beta=1.0):
    """What common mistakes give, each with its cause (genprep.learner.checks.expect_close(likely=...))."""
    bce = F.binary_cross_entropy_with_logits(x_logits.double(), x.double(), reduction="none").reshape(x.size(0), -1)
    kl = kl_oracle(mu, logvar)
    per_dim = kl_divergence(Normal(mu.double(), (0.5 * logvar.double()).exp()), Normal(0.0, 1.0))
    kl_logvar = -0.5 * (1 + logvar.double() - mu.double() ** 2 - logvar.double()).sum(-1)
    recon = bce.sum(1)
    return (((bce.mean(1) + beta * kl).mean().float(),
             say(en="averaging the reconstruction over the pixels (.mean(), or reduction='mean') where the ELBO needs "
                    "the SUM over the pixels of each example.",
                 zh="重构项在像素上取了均值（.mean() 或 reduction='mean'），而 ELBO 需要的是每个样本在所有像素上的和。")),
            ((recon + beta * kl).sum().float(),
             say(en="summing over the batch; take the mean over the batch.",
                 zh="在 batch 上求了和；应在 batch 上取均值。")),
            ((recon + beta * kl_logvar).mean().float(),
             say(en="a KL with logvar in place of exp(logvar); the KL's last term is exp(logvar), the variance.",
                 zh="KL 里用 logvar 代替了 exp(logvar)；KL 的最后一项是方差 exp(logvar)。")),
            ((recon - beta * kl).mean().float(),
             say(en="subtracting the KL; the loss ADDS β·KL (it is minimized, like the reconstruction).",
                 zh="减去了 KL；损失是加上 β·KL（它和重构项一样要被最小化）。")),
            ((beta * recon + kl).mean().float(),
             say(en="β on the reconstruction term; β multiplies the KL term only.",
                 zh="β 乘在了重构项上；β 只乘 KL 项。")),
            ((recon + beta * per_dim.mean(-1)).mean().float(),
             say(en="averaging the KL over the latent dimensions; sum it over them (a mean silently divides β by z_dim).",
                 zh="KL 在隐变量各维上取了均值；应求和（取均值相当于悄悄把 β 除以了 z_dim）。")),
            ((recon + beta * (kl - 0.5 * logvar.double().sum(-1))).mean().float(),
             say(en="an extra −Σ log σ in the KL; the closed form already holds −½·logvar once.",
                 zh="KL 里多减了一项 −Σ log σ；闭式解里 −½·logvar 已经出现过一次了。")))


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
                  say(en="vae_loss(..., beta=0), the reconstruction term alone", zh="vae_loss(..., beta=0)，即单独的重构项"),
                  atol=1e-4, rtol=1e-5, hint=RECON, likely=likely_mistakes(x, x_logits, mu, logvar, beta=0.0))


def test_beta_scales_only_the_kl_term(impl):
    x, x_logits, mu, logvar = case(2, soft=True)
    for beta in (0.25, 4.0):
        expect_scalar(impl.vae_loss(x, x_logits, mu, logvar, beta=beta), oracle(x, x_logits, mu, logvar, beta),
                      f"vae_loss(..., beta={beta})", atol=1e-4, rtol=1e-5,
                      hint=say(en="β multiplies the KL term only: loss = recon + β·KL. " + HINT.en,
                               zh="β 只乘 KL 项：loss = recon + β·KL。" + HINT.zh),
                      likely=likely_mistakes(x, x_logits, mu, logvar, beta=beta))
    slope = impl.vae_loss(x, x_logits, mu, logvar, beta=3.0) - impl.vae_loss(x, x_logits, mu, logvar, beta=1.0)
    expect_scalar(slope, 2.0 * kl_oracle(mu, logvar).mean(), "vae_loss(beta=3) − vae_loss(beta=1)",
                  atol=1e-4, rtol=1e-4,
                  hint=say(en="Raising β by 2 must add exactly 2 × (mean KL), a positive amount: the KL is added "
                              "(minimized), never subtracted, and summed over the latent dims.",
                           zh="β 增加 2，损失必须正好增加 2 ×（KL 的均值），这是一个正数：KL 是加上去的（要被最小化），"
                              "不能减，并且要在隐变量各维上求和。"))


def test_kl_with_small_and_large_variances(impl):
    x, x_logits, _, _ = case(3, B=2, image=(4,))
    mu = torch.tensor([[0.0, 1.5, -0.5, 0.0], [2.0, 0.0, 0.3, -1.0]])
    logvar = torch.tensor([[-6.0, -3.0, 0.0, 2.5], [1.0, -8.0, -0.5, 0.0]])
    expect_scalar(impl.vae_loss(x, x_logits, mu, logvar), oracle(x, x_logits, mu, logvar),
                  say(en="vae_loss with latent logvar from -8 to 2.5", zh="隐变量 logvar 从 -8 到 2.5 时的 vae_loss"),
                  atol=1e-4, rtol=1e-5,
                  hint=say(en="The KL per latent dim is ½(exp(logvar) + μ² − 1 − logvar): exp(logvar) is the variance.",
                           zh="每个隐变量维度的 KL 是 ½(exp(logvar) + μ² − 1 − logvar)：exp(logvar) 才是方差。"),
                  likely=likely_mistakes(x, x_logits, mu, logvar))
    zeros = torch.zeros(2, 4)
    expect_scalar(impl.vae_loss(x, x_logits, zeros, zeros), recon_oracle(x, x_logits).mean(),
                  say(en="vae_loss with q(z|x) = N(0, I) (the KL term is 0)", zh="q(z|x) = N(0, I) 时的 vae_loss（KL 项为 0）"),
                  atol=1e-4, rtol=1e-5,
                  hint=say(en="With μ = 0 and logvar = 0 the KL is 0, so only the reconstruction is left: " + RECON.en,
                           zh="μ = 0、logvar = 0 时 KL 为 0，只剩重构项：" + RECON.zh),
                  likely=likely_mistakes(x, x_logits, zeros, zeros))


def test_confident_logits_stay_finite(impl):
    # A trained Bernoulli decoder outputs logits like ±20, where sigmoid rounds to exactly 0 or 1 in float32.
    x = torch.tensor([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0]])
    x_logits = torch.tensor([[20.0, -20.0, -25.0, 30.0], [-40.0, 18.0, 22.0, -19.0]])
    mu, logvar = torch.zeros(2, 3), torch.zeros(2, 3)
    got = impl.vae_loss(x, x_logits, mu, logvar)
    expect(isinstance(got, torch.Tensor) and bool(torch.isfinite(got).all()),
           say(en=f"vae_loss with decoder logits of magnitude 20–40 returned {got!r}; compute the BCE from the logits "
                  "(F.binary_cross_entropy_with_logits), not log(sigmoid(·)).",
               zh=f"解码器 logits 量级为 20–40 时 vae_loss 返回了 {got!r}；应直接由 logits 计算 BCE"
                  "（F.binary_cross_entropy_with_logits），不要算 log(sigmoid(·))。"))
    expect_scalar(got, oracle(x, x_logits, mu, logvar), say(en="vae_loss with confident decoder logits",
                                                            zh="解码器 logits 很确定时的 vae_loss"),
                  atol=1e-3, rtol=1e-5,
                  hint=say(en="With logits of ±20 the sigmoid rounds to 0 or 1: clamping or log(sigmoid) loses the "
                              "loss; use F.binary_cross_entropy_with_logits on the logits.",
                           zh="logits 为 ±20 时 sigmoid 会舍入成 0 或 1：截断或 log(sigmoid) 都会把损失算错；"
                              "直接对 logits 用 F.binary_cross_entropy_with_logits。"),
                  likely=likely_mistakes(x, x_logits, mu, logvar))
