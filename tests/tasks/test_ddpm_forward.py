"""ddpm-forward: the linear β schedule and q_sample, x_t = √ᾱ_t·x0 + √(1−ᾱ_t)·noise with 0-based t.

The oracle never uses the closed form: it composes the one-step process
x_s = √(1−β_s)·x_{s−1} + √β_s·ε_s for s = 0, ..., t, analytically (mean coefficient and variance, float64) and by
simulation.
"""
import torch

from genprep.learner.checks import expect, expect_close, expect_tensor, expect_unchanged

HINT = ("x_t = √ᾱ_t·x0 + √(1 − ᾱ_t)·noise with ᾱ_t = alphas_cumprod[t], t 0-based (t = 0 is one step of noise); "
        "reshape alphas_cumprod[t] to (B, 1, ..., 1) so it broadcasts over each example.")


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
        expect_close(betas, want.float(), f"linear_beta_schedule({T}, beta_1={b1}, beta_T={bT})", atol=1e-7,
                     rtol=1e-5, hint="T values from beta_1 (first step) to beta_T (last step) inclusive, equally "
                                     "spaced: torch.linspace(beta_1, beta_T, T), float32.")
    betas = impl.linear_beta_schedule(1000)
    expect_tensor(betas, "linear_beta_schedule(1000)", shape=(1000,), dtype=torch.float32)
    expect(abs(betas[0].item() - 1e-4) < 1e-9 and abs(betas[-1].item() - 0.02) < 1e-8,
           f"linear_beta_schedule(1000) should run from 1e-4 to 0.02 (DDPM's defaults); got {betas[0].item():.6g} "
           f"to {betas[-1].item():.6g}")


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
    expect_close(got, want.float(), f"q_sample for t = {t.tolist()}", atol=1e-5, rtol=1e-5, hint=HINT)
    expect_unchanged(x0_before, x0, "x0")
    expect_unchanged(noise_before, noise, "noise")


def test_t_zero_is_one_step_of_noise(impl):
    betas = schedule()
    x0, noise = torch.tensor([[2.0, -1.0]]), torch.tensor([[0.5, 1.5]])
    got = impl.q_sample(x0, torch.tensor([0]), noise, torch.cumprod(1 - betas, 0))
    b = betas[0].double()
    want = (1 - b).sqrt() * x0.double() + b.sqrt() * noise.double()  # q(x_0 | data) = N(√(1−β_0)·data, β_0)
    expect_close(got, want.float(), "q_sample at t = 0", atol=1e-6,
                 hint="t is 0-based: t = 0 must give the data after ONE step, with ᾱ_0 = 1 − β_0 = "
                      "alphas_cumprod[0] — not alphas_cumprod[t − 1]. " + HINT)


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
        expect_close(got, x.float()[None], f"q_sample reproducing a simulated chain at t = {ti}", atol=1e-5,
                     rtol=1e-5, hint=HINT)


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
        for name, a, b, tol in (("mean", samples.mean(0), chain.mean(0), 4 * (2 * v / N) ** 0.5),
                                ("variance", samples.var(0), chain.var(0), 4 * v * (4 / N) ** 0.5)):
            expect(bool(((a - b).abs() < tol).all()),
                   f"at t = {ti}, the {name} of {N} q_sample draws is {a.tolist()} but the simulated chain's is "
                   f"{b.tolist()} (analytic: mean {[round(m * x, 4) for x in (1.5, -0.7)]}, variance {v:.4f}; "
                   f"tolerance ±{tol:.3g}). {HINT}")
