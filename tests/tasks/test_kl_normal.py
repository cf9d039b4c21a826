"""kl-normal: KL between diagonal Gaussians, summed over the last dim."""
import math

import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.distributions import Normal, kl_divergence

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor, say, usual_cause

HINT = say(en="Per dimension: ½(log σ_p²/σ_q² + (σ_q² + (μ_q−μ_p)²)/σ_p² − 1), with σ² = exp(logvar); "
              "sum over the last dim only.",
           zh="逐维计算：½(log σ_p²/σ_q² + (σ_q² + (μ_q−μ_p)²)/σ_p² − 1)，其中 σ² = exp(logvar)；只在最后一维上求和。")
VARIANCE = say(en="Variances are exp(logvar): σ_q²/σ_p² = exp(logvar_q − logvar_p), and the log term is "
                  "logvar_p − logvar_q (no extra log σ).",
               zh="方差是 exp(logvar)：σ_q²/σ_p² = exp(logvar_q − logvar_p)，对数项就是 logvar_p − logvar_q"
                  "（不要再多加一个 log σ）。")


def oracle(mu_q, logvar_q, mu_p, logvar_p):
    q = Normal(mu_q.double(), (0.5 * logvar_q.double()).exp())
    p = Normal(mu_p.double(), (0.5 * logvar_p.double()).exp())
    return kl_divergence(q, p).sum(-1).to(mu_q.dtype)


def likely_kl_mistakes(mu_q, logvar_q, mu_p, logvar_p):
    """What the usual mistakes give on these inputs, each with its cause (expect_close(likely=...))."""
    per_dim = kl_divergence(Normal(mu_q.double(), (0.5 * logvar_q.double()).exp()),
                            Normal(mu_p.double(), (0.5 * logvar_p.double()).exp()))
    return ((oracle(mu_p, logvar_p, mu_q, logvar_q),
             say(en="KL(p‖q), the reversed direction; KL(q‖p) divides by σ_p² and takes the mean difference "
                    "under p's variance.",
                 zh="算成了反方向的 KL(p‖q)；KL(q‖p) 要除以 σ_p²，均值差也要用 p 的方差来衡量。")),
            (per_dim.mean(-1).to(mu_q.dtype),
             say(en="a mean over the latent dimensions; the KL of a diagonal Gaussian is the SUM over them.",
                 zh="在隐变量各维上取了均值；对角高斯的 KL 是各维之和。")),
            ((per_dim - 0.5 * logvar_q.double()).sum(-1).to(mu_q.dtype),
             say(en="an extra −Σ log σ_q term; the closed form already holds the only log term, "
                    "½(logvar_p − logvar_q).",
                 zh="多减了一项 −Σ log σ_q；闭式解里唯一的对数项就是 ½(logvar_p − logvar_q)。")),
            ((per_dim - 0.5 * ((logvar_q - logvar_p).double().exp() - (logvar_q - logvar_p).double())).sum(-1)
             .to(mu_q.dtype),
             say(en="logvar where the variance ratio belongs: the term is σ_q²/σ_p² = exp(logvar_q − logvar_p), "
                    "not logvar_q − logvar_p.",
                 zh="该用方差比的地方用了 logvar：这一项是 σ_q²/σ_p² = exp(logvar_q − logvar_p)，"
                    "不是 logvar_q − logvar_p。")))



def cause_of(value, mu_q, logvar_q, mu_p, logvar_p):
    """The usual cause that explains `value` (for checks that are not an expect_close), else the general hint."""
    return usual_cause(value, likely_kl_mistakes(mu_q, logvar_q, mu_p, logvar_p), HINT, atol=1e-4)

def test_standard_normal_prior_by_default(impl):
    g = torch.Generator().manual_seed(1)
    mu, logvar = torch.randn(5, 3, generator=g), torch.randn(5, 3, generator=g)
    got = expect_deterministic(impl.kl_normal, mu, logvar, what="kl_normal(mu, logvar)")
    zeros = torch.zeros(5, 3)
    expect_close(got, oracle(mu, logvar, zeros, zeros),
                 say(en="kl_normal(mu, logvar) against N(0, I)", zh="kl_normal(mu, logvar) 相对 N(0, I)"), atol=1e-5,
                 hint=say(en="The default prior is N(0, I): mu_p = 0 and logvar_p = 0, so the KL per dimension is "
                             "½(exp(logvar) + mu² − 1 − logvar).",
                          zh="默认先验是 N(0, I)：mu_p = 0、logvar_p = 0，每一维的 KL 是 ½(exp(logvar) + mu² − 1 − logvar)。"),
                 likely=likely_kl_mistakes(mu, logvar, zeros, zeros))


def test_general_prior_and_batch_shape(impl):
    g = torch.Generator().manual_seed(2)
    shape = (2, 4, 6)
    mu_q, mu_p = torch.randn(shape, generator=g), torch.randn(shape, generator=g)
    logvar_q, logvar_p = torch.randn(shape, generator=g), torch.randn(shape, generator=g)
    got = impl.kl_normal(mu_q, logvar_q, mu_p, logvar_p)
    expect_tensor(got, say(en="kl_normal(...) on inputs of shape (2, 4, 6)", zh="输入形状为 (2, 4, 6) 的 kl_normal(...)"),
                  shape=(2, 4), dtype=torch.float32)
    expect_close(got, oracle(mu_q, logvar_q, mu_p, logvar_p), "kl_normal(mu_q, logvar_q, mu_p, logvar_p)",
                 atol=1e-4, rtol=1e-4, hint=HINT, likely=likely_kl_mistakes(mu_q, logvar_q, mu_p, logvar_p))


def test_small_and_large_variances(impl):
    # logvar far from 0 is where exp(logvar) vs logvar mistakes show most.
    mu_q = torch.tensor([[0.3, -1.0, 2.0, 0.0]])
    logvar_q = torch.tensor([[-6.0, -2.5, 3.0, 0.7]])
    mu_p = torch.tensor([[0.0, 0.5, -1.0, 0.2]])
    logvar_p = torch.tensor([[1.0, -3.0, 0.5, 0.7]])
    expect_close(impl.kl_normal(mu_q, logvar_q, mu_p, logvar_p), oracle(mu_q, logvar_q, mu_p, logvar_p),
                 say(en="kl_normal with small and large variances", zh="方差很小和很大时的 kl_normal"),
                 atol=1e-4, rtol=1e-4, hint=VARIANCE, likely=likely_kl_mistakes(mu_q, logvar_q, mu_p, logvar_p))
    zeros = torch.zeros(1, 4)
    expect_close(impl.kl_normal(mu_q, logvar_q), oracle(mu_q, logvar_q, zeros, zeros),
                 say(en="kl_normal with small and large variances against N(0, I)",
                     zh="方差很小和很大时相对 N(0, I) 的 kl_normal"),
                 atol=1e-4, rtol=1e-4, hint=VARIANCE, likely=likely_kl_mistakes(mu_q, logvar_q, zeros, zeros))


def test_agrees_with_a_monte_carlo_estimate(impl):
    # KL(q‖p) = E_q[log q(z) − log p(z)]; 200k samples give a standard error of ~0.005 here.
    g = torch.Generator().manual_seed(3)
    mu_q, logvar_q = torch.tensor([0.5, -1.0]), torch.tensor([-0.5, 0.3])
    mu_p, logvar_p = torch.tensor([0.0, 0.5]), torch.tensor([0.2, -0.4])
    q = Normal(mu_q.double(), (0.5 * logvar_q.double()).exp())
    p = Normal(mu_p.double(), (0.5 * logvar_p.double()).exp())
    z = q.mean + q.stddev * torch.randn(200_000, 2, generator=g, dtype=torch.float64)
    estimate = (q.log_prob(z) - p.log_prob(z)).sum(-1).mean()
    got = impl.kl_normal(mu_q, logvar_q, mu_p, logvar_p)
    expect_tensor(got, say(en="kl_normal on 1-D inputs (no batch)", zh="一维输入（没有 batch 维）上的 kl_normal"),
                  shape=(), dtype=torch.float32)
    cause = cause_of(got, mu_q, logvar_q, mu_p, logvar_p)
    expect(abs(float(got) - float(estimate)) < 0.03,
           say(en=f"kl_normal returned {float(got):.4f}, but a Monte Carlo estimate E_q[log q − log p] is "
                  f"{float(estimate):.4f} (±0.03). {cause.en}",
               zh=f"kl_normal 返回 {float(got):.4f}，而蒙特卡洛估计 E_q[log q − log p] 是 {float(estimate):.4f}（±0.03）。"
                  f"{cause.zh}"))


def test_zero_exactly_when_q_equals_p(impl):
    mu, logvar = torch.randn(3, 5), torch.randn(3, 5)
    same = impl.kl_normal(mu, logvar, mu.clone(), logvar.clone())
    expect_close(same, torch.zeros(3), "kl_normal(q, q)", atol=1e-6, likely=likely_kl_mistakes(mu, logvar, mu, logvar),
                 hint=say(en="KL of a distribution with itself is 0: with equal means and variances the log term and "
                             "the −1 must cancel the ratio term exactly.",
                          zh="分布与自身的 KL 为 0：均值和方差都相同时，对数项与 −1 必须恰好抵消方差比那一项。"))
    shifted = impl.kl_normal(mu, logvar, mu + 0.1, logvar)
    expect(bool((shifted > 1e-4).all()),
           say(en=f"kl_normal(q, p) with p's mean shifted by 0.1 gave {shifted.tolist()}; it must be positive when "
                  "q ≠ p — the (μ_q − μ_p)² / σ_p² term is missing or has the wrong sign.",
               zh=f"p 的均值平移 0.1 后 kl_normal(q, p) 得到 {shifted.tolist()}；q ≠ p 时 KL 必须为正"
                  "——(μ_q − μ_p)² / σ_p² 这一项漏了或符号反了。"))
    expect_close(impl.kl_normal(torch.zeros(2, 3), torch.zeros(2, 3)), torch.zeros(2),
                 "kl_normal(N(0, I) ‖ N(0, I))", atol=1e-6,
                 hint=say(en="For mu = 0, logvar = 0 each term is ½(1 + 0 − 1 − 0) = 0.",
                          zh="mu = 0、logvar = 0 时每一项都是 ½(1 + 0 − 1 − 0) = 0。"))


@given(st.lists(st.tuples(st.floats(-3, 3), st.floats(-4, 4), st.floats(-3, 3), st.floats(-4, 4)),
                min_size=1, max_size=5))
def test_non_negative(impl, rows):
    t = torch.tensor(rows, dtype=torch.float32)  # (D, 4): one latent dim per row
    mu_q, logvar_q, mu_p, logvar_p = (t[:, i] for i in range(4))
    got = impl.kl_normal(mu_q, logvar_q, mu_p, logvar_p)
    expect_tensor(got, say(en=f"kl_normal for {len(rows)} latent dims (1-D inputs)",
                           zh=f"{len(rows)} 个隐变量维度（一维输入）的 kl_normal"), shape=(), dtype=torch.float32)
    expect(float(got) >= -1e-5,
           say(en=f"kl_normal returned {float(got):.6f} < 0 for {rows}; KL is never negative. "
                  f"{cause_of(got, mu_q, logvar_q, mu_p, logvar_p).en}",
               zh=f"对 {rows}，kl_normal 返回 {float(got):.6f} < 0；KL 散度永远不会是负的。"
                  f"{cause_of(got, mu_q, logvar_q, mu_p, logvar_p).zh}"))
    expect_close(got, oracle(mu_q, logvar_q, mu_p, logvar_p), f"kl_normal for {rows}", atol=1e-4, rtol=1e-4,
                 hint=HINT, likely=likely_kl_mistakes(mu_q, logvar_q, mu_p, logvar_p))
    expect(math.isfinite(float(got)), say(en="kl_normal returned a non-finite value",
                                          zh="kl_normal 返回了非有限值（inf 或 NaN）"))
