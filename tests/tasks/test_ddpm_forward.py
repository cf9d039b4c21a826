"""ddpm-forward: the linear β schedule and q_sample, x_t = √ᾱ_t·x0 + √(1−ᾱ_t)·noise with 0-based t.

The oracle never uses the closed form: it composes the one-step process
x_s = √(1−β_s)·x_{s−1} + √β_s·ε_s for s = 0, ..., t, analytically (mean coefficient and variance, float64) and by
simulation.
"""
import torch

from genprep.learner.checks import expect, expect_close, expect_tensor, expect_unchanged, say

HINT = say(en="x_t = √ᾱ_t·x0 + √(1 − ᾱ_t)·noise with ᾱ_t = alphas_cumprod[t], t 0-based (t = 0 is one step of noise); "
              "reshape alphas_cumprod[t] to (B, 1, ..., 1) so it broadcasts over each example.",
           zh="x_t = √ᾱ_t·x0 + √(1 − ᾱ_t)·noise，其中 ᾱ_t = alphas_cumprod[t]，t 从 0 开始（t = 0 表示加了一步噪声）；"
              "把 alphas_cumprod[t] reshape 成 (B, 1, ..., 1)，让它在每个样本上广播。")


def likely_q_mistakes(x0, t, noise, alphas_cumprod):
    """What the usual q_sample mistakes give, each with its cause."""
    shape = (-1,) + (1,) * (x0.dim() - 1)
    a = alphas_cumprod.double()[t].reshape(shape)
    a_early = alphas_cumprod.double()[t - 1].reshape(shape)
    x0, noise = x0.double(), noise.double()
    return (((a * x0 + (1 - a).sqrt() * noise).float(),
             say(en="x0 scaled by ᾱ_t instead of √ᾱ_t; the mean coefficient is the square root.",
                 zh="x0 乘的是 ᾱ_t 而不是 √ᾱ_t；均值系数要开平方。")),
            ((a.sqrt() * x0 + (1 - a) * noise).float(),
             say(en="noise scaled by the variance 1 − ᾱ_t instead of the standard deviation √(1 − ᾱ_t).",
                 zh="噪声乘的是方差 1 − ᾱ_t，而不是标准差 √(1 − ᾱ_t)。")),
            ((a_early.sqrt() * x0 + (1 - a_early).sqrt() * noise).float(),
             say(en="alphas_cumprod[t − 1] (the paper's 1-based t); t is 0-based here, so ᾱ_t = alphas_cumprod[t] "
                    "(and t = 0 must not wrap to the last step).",
                 zh="用了 alphas_cumprod[t − 1]（论文里 t 从 1 开始）；这里 t 从 0 开始，ᾱ_t = alphas_cumprod[t]"
                    "（t = 0 不能绕回到最后一步）。")))


def composed(betas, t):
    """Iterate the one-step process from a fixed x0 for steps 0..t: x_t = m·x0 + √v·(standard normal), float64."""
    m, v = 1.0, 0.0
    for beta in betas[: t + 1].double().tolist():
        m, v = (1 - beta) ** 0.5 * m, (1 - beta) * v + beta  # scale the old variance, add the new step's
    return m, v


def schedule(T=8):
    return torch.linspace(0.05, 0.4, T)  # large steps, so that off-by-one errors show


def test_linear_schedule(impl):
    for T, b1, bT in ((10, 1e-3, 0.05), (4, 0.1, 0.2)):
        betas = impl.linear_beta_schedule(T, beta_1=b1, beta_T=bT)
        expect_tensor(betas, f"linear_beta_schedule({T}, beta_1={b1}, beta_T={bT})", shape=(T,), dtype=torch.float32)
        want = torch.tensor([b1 + (bT - b1) * i / (T - 1) for i in range(T)], dtype=torch.float64)
        short = torch.tensor([b1 + (bT - b1) * i / T for i in range(T)], dtype=torch.float64)
        expect_close(betas, want.float(), f"linear_beta_schedule({T}, beta_1={b1}, beta_T={bT})", atol=1e-7,
                     rtol=1e-5, hint=say(en="T values from beta_1 (first step) to beta_T (last step) inclusive, equally "
                                            "spaced: torch.linspace(beta_1, beta_T, T), float32.",
                                         zh="从 beta_1（第一步）到 beta_T（最后一步）共 T 个等间距的值，两端都包含："
                                            "torch.linspace(beta_1, beta_T, T)，float32。"),
                     likely=((short.float(), say(en="steps of (beta_T − beta_1)/T, so the last value falls one step "
                                                    "short of beta_T; the spacing is (beta_T − beta_1)/(T − 1).",
                                                 zh="步长用了 (beta_T − beta_1)/T，最后一个值差一步到不了 beta_T；"
                                                    "间距应为 (beta_T − beta_1)/(T − 1)。")),))
    betas = impl.linear_beta_schedule(1000)
    expect_tensor(betas, "linear_beta_schedule(1000)", shape=(1000,), dtype=torch.float32)
    expect(abs(betas[0].item() - 1e-4) < 1e-9 and abs(betas[-1].item() - 0.02) < 1e-8,
           say(en=f"linear_beta_schedule(1000) should run from 1e-4 to 0.02 (DDPM's defaults); got "
                  f"{betas[0].item():.6g} to {betas[-1].item():.6g}",
               zh=f"linear_beta_schedule(1000) 应从 1e-4 到 0.02（DDPM 的默认值）；实际是 {betas[0].item():.6g} 到 "
                  f"{betas[-1].item():.6g}"))


def test_q_sample_equals_the_composed_one_step_process(impl):
    betas = schedule()
    alphas_cumprod = torch.cumprod(1 - betas, dim=0)
    g = torch.Generator().manual_seed(0)
    t = torch.tensor([0, 7, 3, 1, 0, 5])  # includes both ends of the 0-based range
    x0, noise = torch.randn(6, 3, 2, 2, generator=g), torch.randn(6, 3, 2, 2, generator=g)
    x0_before, noise_before = x0.clone(), noise.clone()
    got = impl.q_sample(x0, t, noise, alphas_cumprod)
    expect_tensor(got, "q_sample(x0 (6, 3, 2, 2), t (6,), noise, alphas_cumprod)", shape=(6, 3, 2, 2),
                  dtype=torch.float32)
    coef = torch.tensor([composed(betas, int(ti)) for ti in t], dtype=torch.float64)  # (B, 2): m, v
    m, v = coef[:, 0].reshape(6, 1, 1, 1), coef[:, 1].reshape(6, 1, 1, 1)
    want = m * x0.double() + v.sqrt() * noise.double()
    expect_close(got, want.float(), f"q_sample(t={t.tolist()})", atol=1e-5, rtol=1e-5, hint=HINT,
                 likely=likely_q_mistakes(x0_before, t, noise_before, alphas_cumprod))
    expect_unchanged(x0_before, x0, "x0")
    expect_unchanged(noise_before, noise, "noise")


def test_t_zero_is_one_step_of_noise(impl):
    betas = schedule()
    x0, noise = torch.tensor([[2.0, -1.0]]), torch.tensor([[0.5, 1.5]])
    got = impl.q_sample(x0, torch.tensor([0]), noise, torch.cumprod(1 - betas, 0))
    b = betas[0].double()
    want = (1 - b).sqrt() * x0.double() + b.sqrt() * noise.double()  # q(x_0 | data) = N(√(1−β_0)·data, β_0)
    expect_close(got, want.float(), say(en="q_sample at t = 0", zh="t = 0 时的 q_sample"), atol=1e-6,
                 hint=say(en="t is 0-based: t = 0 must give the data after ONE step, with ᾱ_0 = 1 − β_0 = "
                             "alphas_cumprod[0] — not alphas_cumprod[t − 1]. " + HINT.en,
                          zh="t 从 0 开始：t = 0 必须得到加了一步噪声后的数据，ᾱ_0 = 1 − β_0 = alphas_cumprod[0]——"
                             "不是 alphas_cumprod[t − 1]。" + HINT.zh),
                 likely=likely_q_mistakes(x0, torch.tensor([0]), noise, torch.cumprod(1 - betas, 0)))


def test_pathwise_composition(impl):
    # Run the chain step by step with its own noise; the composed noise (x_t − m·x0)/√v is a standard normal, and
    # feeding it to q_sample must reproduce the chain's x_t exactly.
    betas = schedule()
    alphas_cumprod = torch.cumprod(1 - betas, 0)
    g = torch.Generator().manual_seed(1)
    x0 = torch.randn(5, 4, generator=g, dtype=torch.float64)
    t = torch.tensor([0, 2, 4, 6, 7])
    for i, ti in enumerate(t.tolist()):
        x = x0[i]
        for s in range(ti + 1):
            x = (1 - betas[s].double()).sqrt() * x + betas[s].double().sqrt() * torch.randn(4, generator=g,
                                                                                         dtype=torch.float64)
        m, v = composed(betas, ti)
        eps = (x - m * x0[i]) / v ** 0.5
        got = impl.q_sample(x0[i:i + 1].float(), t[i:i + 1], eps.float()[None], alphas_cumprod)
        expect_close(got, x.float()[None], say(en=f"q_sample reproducing a simulated chain at t = {ti}",
                                               zh=f"t = {ti} 时用 q_sample 复现模拟的链"), atol=1e-5,
                     rtol=1e-5, hint=HINT,
                     likely=likely_q_mistakes(x0[i:i + 1].float(), t[i:i + 1], eps.float()[None], alphas_cumprod))


def test_monte_carlo_matches_the_simulated_chain(impl):
    betas = schedule()
    alphas_cumprod = torch.cumprod(1 - betas, 0)
    g = torch.Generator().manual_seed(2)
    N = 20000
    x0 = torch.tensor([1.5, -0.7]).repeat(N, 1)  # two "pixels", N copies
    for ti in (2, 7):
        chain = x0.double()
        for s in range(ti + 1):
            chain = (1 - betas[s].double()).sqrt() * chain + betas[s].double().sqrt() * torch.randn(
                N, 2, generator=g, dtype=torch.float64)
        t = torch.full((N,), ti, dtype=torch.int64)
        samples = impl.q_sample(x0, t, torch.randn(N, 2, generator=g), alphas_cumprod).double()
        m, v = composed(betas, ti)
        for name, a, b, tol in ((say(en="mean", zh="均值"), samples.mean(0), chain.mean(0), 4 * (2 * v / N) ** 0.5),
                                (say(en="variance", zh="方差"), samples.var(0), chain.var(0), 4 * v * (4 / N) ** 0.5)):
            means = [round(m * x, 4) for x in (1.5, -0.7)]
            expect(bool(((a - b).abs() < tol).all()),
                   say(en=f"at t = {ti}, the {name.en} of {N} q_sample draws is {a.tolist()} but the simulated chain's "
                          f"is {b.tolist()} (analytic: mean {means}, variance {v:.4f}; tolerance ±{tol:.3g}). {HINT.en}",
                       zh=f"t = {ti} 时 {N} 次 q_sample 抽样的{name.zh}是 {a.tolist()}，而模拟链的是 {b.tolist()}"
                          f"（解析值：均值 {means}，方差 {v:.4f}；容差 ±{tol:.3g}）。{HINT.zh}"))
