"""ddpm-posterior: mean and variance of q(x_{t−1} | x_t, x_0), 0-based t = 0…T−1 (t = 0: mean x0, variance 0).

The oracle conditions the joint Gaussian of (x_{t−1}, x_t) given x_0 in float64 — x_{t−1} ~ N(√ᾱ_{t−1}·x0,
1 − ᾱ_{t−1}) and x_t = √α_t·x_{t−1} + √β_t·ε — without the closed-form posterior coefficients.
"""
import torch

from genprep.learner.checks import expect, expect_close, expect_tensor

HINT = ("With α_t = 1 − β_t and ᾱ_t = Π_{s≤t} α_s (t 0-based): mean = √ᾱ_{t−1}·β_t/(1 − ᾱ_t)·x0 + "
        "√α_t·(1 − ᾱ_{t−1})/(1 − ᾱ_t)·x_t, variance = (1 − ᾱ_{t−1})/(1 − ᾱ_t)·β_t.")
FIRST_STEP_HINT = ("At t = 0 nothing has been noised before the first step: ᾱ_{t−1} = ᾱ_{−1} = 1, so the posterior "
                   "is the point mass at x0 (mean x0, variance 0). `alphas_cumprod[t - 1]` silently wraps around to "
                   "the LAST step's ᾱ_{T−1} at t = 0; build alphas_cumprod_prev = cat([1], alphas_cumprod[:-1]) "
                   "and index it with t. (The precision form 1/β̃ = α_t/β_t + 1/(1 − ᾱ_{t−1}) divides by 0 there.)")


def alpha_bar(betas, t):
    """ᾱ_t = Π_{s=0..t} (1 − β_s) in float64; ᾱ_{−1} = 1."""
    out = 1.0
    for beta in betas[: t + 1].double().tolist():
        out *= 1 - beta
    return out


def oracle(x0, xt, t, betas):
    """Gaussian conditioning, float64: p(a | b) for jointly Gaussian (a, b) = (x_{t−1}, x_t) given x0."""
    means, variances = [], []
    for i, ti in enumerate(t.tolist()):
        prev_mean = alpha_bar(betas, ti - 1) ** 0.5 * x0[i].double()  # E[x_{t−1} | x0]
        prev_var = 1 - alpha_bar(betas, ti - 1)  # Var[x_{t−1} | x0]
        beta = float(betas[ti])
        scale = (1 - beta) ** 0.5  # x_t = scale·x_{t−1} + √β·ε
        cov = scale * prev_var  # Cov(x_{t−1}, x_t)
        var_t = scale ** 2 * prev_var + beta  # Var(x_t)
        means.append(prev_mean + cov / var_t * (xt[i].double() - scale * prev_mean))
        variances.append(prev_var - cov ** 2 / var_t)
    return torch.stack(means), torch.tensor(variances, dtype=torch.float64)


def call(impl, x0, xt, t, betas):
    result = impl.q_posterior(x0, xt, t, betas)
    expect(isinstance(result, tuple) and len(result) == 2,
           f"q_posterior should return a tuple (mean, variance), got {type(result).__name__}")
    mean, variance = result
    expect_tensor(mean, "q_posterior mean", shape=tuple(x0.shape), dtype=x0.dtype)
    expect_tensor(variance, "q_posterior variance", dtype=x0.dtype)
    try:
        shape = torch.broadcast_shapes(variance.shape, x0.shape)
    except RuntimeError:
        shape = None
    expect(shape == x0.shape, f"q_posterior's variance has shape {tuple(variance.shape)}, which does not broadcast "
                              f"to x0's shape {tuple(x0.shape)}; return e.g. (B, 1, ..., 1).")
    return mean, variance.expand(x0.shape)


def test_matches_gaussian_conditioning(impl):
    betas = torch.linspace(0.02, 0.3, 12)  # large steps, so that off-by-one errors show
    g = torch.Generator().manual_seed(0)
    t = torch.tensor([1, 11, 5, 2, 8])  # 0-based; t = 0 is checked in test_edge_steps_t_0_and_t_T_minus_1
    x0, xt = torch.randn(5, 2, 3, generator=g), torch.randn(5, 2, 3, generator=g)
    mean, variance = call(impl, x0, xt, t, betas)
    want_mean, want_var = oracle(x0, xt, t, betas)
    expect_close(variance, want_var.reshape(5, 1, 1).expand(5, 2, 3).float(),
                 f"posterior variance for t = {t.tolist()}", atol=1e-6, rtol=1e-4, hint=HINT)
    expect_close(mean, want_mean.float(), f"posterior mean for t = {t.tolist()}", atol=1e-5, rtol=1e-4, hint=HINT)


def test_default_ddpm_schedule_near_the_start(impl):
    # tiny betas: 1 − ᾱ_t is small at t = 1, where the variance is about half of β_t
    betas = torch.linspace(1e-4, 0.02, 1000)
    g = torch.Generator().manual_seed(1)
    t = torch.tensor([1, 2, 10, 500, 999])
    x0, xt = torch.randn(5, 4, generator=g), torch.randn(5, 4, generator=g)
    mean, variance = call(impl, x0, xt, t, betas)
    want_mean, want_var = oracle(x0, xt, t, betas)
    expect_close(variance, want_var.reshape(5, 1).expand(5, 4).float(), f"posterior variance, DDPM schedule, "
                 f"t = {t.tolist()}", atol=1e-9, rtol=5e-3, hint=HINT)
    expect_close(mean, want_mean.float(), f"posterior mean, DDPM schedule, t = {t.tolist()}", atol=1e-4, rtol=1e-3,
                 hint=HINT)


def test_marginalizing_x_t_gives_back_q_of_x_t_minus_1(impl):
    # The posterior mean is a·x0 + b·x_t. With x_t ~ N(√ᾱ_t·x0, 1 − ᾱ_t), the law of x_{t−1} must be
    # q(x_{t−1} | x0) = N(√ᾱ_{t−1}·x0, 1 − ᾱ_{t−1}): a + b·√ᾱ_t = √ᾱ_{t−1} and b²(1 − ᾱ_t) + variance = 1 − ᾱ_{t−1}.
    betas = torch.linspace(0.05, 0.25, 6)
    for ti in (1, 3, 5):
        t = torch.tensor([ti])
        a, var_a = call(impl, torch.ones(1, 1), torch.zeros(1, 1), t, betas)
        b, _ = call(impl, torch.zeros(1, 1), torch.ones(1, 1), t, betas)
        a, b, var = a.item(), b.item(), var_a.item()
        ab_t, ab_prev = alpha_bar(betas, ti), alpha_bar(betas, ti - 1)
        mean_ok = abs(a + b * ab_t ** 0.5 - ab_prev ** 0.5) < 1e-5
        var_ok = abs(b * b * (1 - ab_t) + var - (1 - ab_prev)) < 1e-5
        expect(mean_ok and var_ok,
               f"at t = {ti}: averaging your posterior over x_t ~ q(x_t | x0) gives x_{{t−1}} mean "
               f"{a + b * ab_t ** 0.5:.6f}·x0 and variance {b * b * (1 - ab_t) + var:.6f}, but q(x_{{t−1}} | x0) has "
               f"mean {ab_prev ** 0.5:.6f}·x0 and variance {1 - ab_prev:.6f}. {HINT}")


def test_edge_steps_t_0_and_t_T_minus_1(impl):
    # t = 0 (first step, ᾱ_{t−1} = ᾱ_{−1} = 1) and t = T − 1 (last step) in one batch: an implementation that reads
    # alphas_cumprod[t − 1] gets every t ≥ 1 right and wraps around to the last step at t = 0.
    g = torch.Generator().manual_seed(2)
    for betas, rtol in ((torch.linspace(0.02, 0.3, 12), 1e-4), (torch.linspace(1e-4, 0.02, 1000), 2e-3)):
        # with β_0 = 1e-4, float32's 1 − (1 − β_0) is off by up to ~3e-4 relative: hence the looser rtol
        T = len(betas)
        t = torch.tensor([0, T - 1, 0, T - 1])
        x0, xt = torch.randn(4, 3, 2, generator=g), torch.randn(4, 3, 2, generator=g)
        mean, variance = call(impl, x0, xt, t, betas)
        first = t == 0
        expect_close(variance[first], torch.zeros(2, 3, 2), f"posterior variance at t = 0 (T = {T})", atol=1e-7,
                     rtol=0.0, hint=FIRST_STEP_HINT)
        expect_close(mean[first], x0[first], f"posterior mean at t = 0 (T = {T}), which must be x0", atol=1e-6,
                     rtol=rtol, hint=FIRST_STEP_HINT)
        want_mean, want_var = oracle(x0, xt, t, betas)
        expect_close(variance, want_var.reshape(4, 1, 1).expand(4, 3, 2).float(),
                     f"posterior variance for t = {t.tolist()} (T = {T})", atol=1e-7, rtol=rtol, hint=HINT)
        expect_close(mean, want_mean.float(), f"posterior mean for t = {t.tolist()} (T = {T})", atol=1e-5, rtol=rtol,
                     hint=HINT)
