"""ddpm-posterior: mean and variance of q(x_{t−1} | x_t, x_0), 0-based t = 0…T−1 (t = 0: mean x0, variance 0).

The oracle conditions the joint Gaussian of (x_{t−1}, x_t) given x_0 in float64 — x_{t−1} ~ N(√ᾱ_{t−1}·x0,
1 − ᾱ_{t−1}) and x_t = √α_t·x_{t−1} + √β_t·ε — without the closed-form posterior coefficients.
"""
import torch

from genprep.learner.checks import expect, expect_close, expect_tensor, say, usual_cause

HINT = say(en="With α_t = 1 − β_t and ᾱ_t = Π_{s≤t} α_s (t 0-based): mean = √ᾱ_{t−1}·β_t/(1 − ᾱ_t)·x0 + "
              "√α_t·(1 − ᾱ_{t−1})/(1 − ᾱ_t)·x_t, variance = (1 − ᾱ_{t−1})/(1 − ᾱ_t)·β_t.",
           zh="记 α_t = 1 − β_t，ᾱ_t = Π_{s≤t} α_s（t 从 0 开始）：均值 = √ᾱ_{t−1}·β_t/(1 − ᾱ_t)·x0 + "
              "√α_t·(1 − ᾱ_{t−1})/(1 − ᾱ_t)·x_t，方差 = (1 − ᾱ_{t−1})/(1 − ᾱ_t)·β_t。")
FIRST_STEP_HINT = say(
    en="At t = 0 nothing has been noised before the first step: ᾱ_{t−1} = ᾱ_{−1} = 1, so the posterior is the point "
       "mass at x0 (mean x0, variance 0). `alphas_cumprod[t - 1]` silently wraps around to the LAST step's ᾱ_{T−1} "
       "at t = 0; build alphas_cumprod_prev = cat([1], alphas_cumprod[:-1]) and index it with t. (The precision form "
       "1/β̃ = α_t/β_t + 1/(1 − ᾱ_{t−1}) divides by 0 there.)",
    zh="t = 0 时第一步之前还没有加过噪声：ᾱ_{t−1} = ᾱ_{−1} = 1，所以后验是集中在 x0 上的点质量（均值 x0，方差 0）。"
       "`alphas_cumprod[t - 1]` 在 t = 0 时会悄悄绕回到最后一步的 ᾱ_{T−1}；应构造 alphas_cumprod_prev = "
       "cat([1], alphas_cumprod[:-1]) 再用 t 索引。（精度形式 1/β̃ = α_t/β_t + 1/(1 − ᾱ_{t−1}) 在这里会除以 0。）")
MISTAKES = {
    "abar_xt": say(en="the x_t coefficient uses √ᾱ_t; x_t is ONE step from x_{t−1}, so it is √α_t·(1 − ᾱ_{t−1})/(1 − ᾱ_t).",
                   zh="x_t 的系数用了 √ᾱ_t；x_t 与 x_{t−1} 只差一步，所以系数是 √α_t·(1 − ᾱ_{t−1})/(1 − ᾱ_t)。"),
    "swapped": say(en="the x0 and x_t coefficients are swapped: x0 gets √ᾱ_{t−1}·β_t/(1 − ᾱ_t), x_t gets "
                      "√α_t·(1 − ᾱ_{t−1})/(1 − ᾱ_t).",
                   zh="x0 和 x_t 的系数对调了：x0 的系数是 √ᾱ_{t−1}·β_t/(1 − ᾱ_t)，x_t 的系数是 √α_t·(1 − ᾱ_{t−1})/(1 − ᾱ_t)。"),
    "one_based": say(en="t read as the paper's 1-based index (β_{t−1}, ᾱ_{t−1}, ᾱ_{t−2}); here t is 0-based: use β_t, "
                        "ᾱ_t and ᾱ_{t−1}.",
                     zh="把 t 当成了论文里从 1 开始的下标（用了 β_{t−1}、ᾱ_{t−1}、ᾱ_{t−2}）；这里 t 从 0 开始：应使用 β_t、"
                        "ᾱ_t 和 ᾱ_{t−1}。"),
    "beta_var": say(en="β_t returned as the variance; the posterior variance is β̃_t = (1 − ᾱ_{t−1})/(1 − ᾱ_t)·β_t "
                       "(β_t is only an upper bound).",
                    zh="把 β_t 当成了方差；后验方差是 β̃_t = (1 − ᾱ_{t−1})/(1 − ᾱ_t)·β_t（β_t 只是它的上界）。"),
}


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


def closed_form(x0, xt, t, betas, mistake=None):
    """The closed-form posterior (float64), or what one of the MISTAKES gives instead."""
    means, variances = [], []
    for i, ti in enumerate(t.tolist()):
        s = ti - 1 if mistake == "one_based" else ti
        beta = float(betas[s]) if s >= 0 else 0.0
        ab_t, ab_prev = alpha_bar(betas, s), alpha_bar(betas, s - 1)
        c0 = ab_prev ** 0.5 * beta / (1 - ab_t) if ab_t < 1 else 1.0
        ct = ((ab_t if mistake == "abar_xt" else 1 - beta) ** 0.5 * (1 - ab_prev) / (1 - ab_t)) if ab_t < 1 else 0.0
        if mistake == "swapped":
            c0, ct = ct, c0
        means.append(c0 * x0[i].double() + ct * xt[i].double())
        variances.append(beta if mistake == "beta_var" else ((1 - ab_prev) / (1 - ab_t) * beta if ab_t < 1 else 0.0))
    return torch.stack(means), torch.tensor(variances, dtype=torch.float64)


def likely(x0, xt, t, betas, which, shape=None):
    """What the usual mistakes give for the mean (which = 0) or the variance (which = 1), with their causes."""
    out = []
    for name, cause in MISTAKES.items():
        value = closed_form(x0, xt, t, betas, name)[which]
        out.append(((value if shape is None else value.reshape(shape[:1] + (1,) * (len(shape) - 1)).expand(shape))
                    .float(), cause))
    return tuple(out)


def call(impl, x0, xt, t, betas):
    result = impl.q_posterior(x0, xt, t, betas)
    expect(isinstance(result, tuple) and len(result) == 2,
           say(en=f"q_posterior should return a tuple (mean, variance), got {type(result).__name__}",
               zh=f"q_posterior 应返回元组 (mean, variance)，实际返回的是 {type(result).__name__}"))
    mean, variance = result
    expect_tensor(mean, say(en="q_posterior mean", zh="q_posterior 的均值"), shape=tuple(x0.shape), dtype=x0.dtype)
    expect_tensor(variance, say(en="q_posterior variance", zh="q_posterior 的方差"), dtype=x0.dtype)
    try:
        shape = torch.broadcast_shapes(variance.shape, x0.shape)
    except RuntimeError:
        shape = None
    expect(shape == x0.shape,
           say(en=f"q_posterior's variance has shape {tuple(variance.shape)}, which does not broadcast to x0's shape "
                  f"{tuple(x0.shape)}; return e.g. (B, 1, ..., 1).",
               zh=f"q_posterior 返回的方差形状是 {tuple(variance.shape)}，不能广播到 x0 的形状 {tuple(x0.shape)}；"
                  "可以返回例如 (B, 1, ..., 1)。"))
    return mean, variance.expand(x0.shape)


def test_matches_gaussian_conditioning(impl):
    betas = torch.linspace(0.02, 0.3, 12)  # large steps, so that off-by-one errors show
    g = torch.Generator().manual_seed(0)
    t = torch.tensor([1, 11, 5, 2, 8])  # 0-based; t = 0 is checked in test_edge_steps_t_0_and_t_T_minus_1
    x0, xt = torch.randn(5, 2, 3, generator=g), torch.randn(5, 2, 3, generator=g)
    mean, variance = call(impl, x0, xt, t, betas)
    want_mean, want_var = oracle(x0, xt, t, betas)
    expect_close(variance, want_var.reshape(5, 1, 1).expand(5, 2, 3).float(),
                 say(en=f"posterior variance for t = {t.tolist()}", zh=f"t = {t.tolist()} 时的后验方差"),
                 atol=1e-6, rtol=1e-4, hint=HINT, likely=likely(x0, xt, t, betas, 1, (5, 2, 3)))
    expect_close(mean, want_mean.float(), say(en=f"posterior mean for t = {t.tolist()}", zh=f"t = {t.tolist()} 时的后验均值"),
                 atol=1e-5, rtol=1e-4, hint=HINT, likely=likely(x0, xt, t, betas, 0))


def test_default_ddpm_schedule_near_the_start(impl):
    # tiny betas: 1 − ᾱ_t is small at t = 1, where the variance is about half of β_t
    betas = torch.linspace(1e-4, 0.02, 1000)
    g = torch.Generator().manual_seed(1)
    t = torch.tensor([1, 2, 10, 500, 999])
    x0, xt = torch.randn(5, 4, generator=g), torch.randn(5, 4, generator=g)
    mean, variance = call(impl, x0, xt, t, betas)
    want_mean, want_var = oracle(x0, xt, t, betas)
    expect_close(variance, want_var.reshape(5, 1).expand(5, 4).float(),
                 say(en=f"posterior variance, DDPM schedule, t = {t.tolist()}",
                     zh=f"DDPM 噪声调度下 t = {t.tolist()} 时的后验方差"),
                 atol=1e-9, rtol=5e-3, hint=HINT, likely=likely(x0, xt, t, betas, 1, (5, 4)))
    expect_close(mean, want_mean.float(), say(en=f"posterior mean, DDPM schedule, t = {t.tolist()}",
                                              zh=f"DDPM 噪声调度下 t = {t.tolist()} 时的后验均值"),
                 atol=1e-4, rtol=1e-3, hint=HINT, likely=likely(x0, xt, t, betas, 0))


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
        got_mean, got_var = a + b * ab_t ** 0.5, b * b * (1 - ab_t) + var
        cause = HINT
        for name, c in MISTAKES.items():
            ca = closed_form(torch.ones(1, 1), torch.zeros(1, 1), t, betas, name)
            cb = closed_form(torch.zeros(1, 1), torch.ones(1, 1), t, betas, name)
            if abs(ca[0].item() - a) < 1e-5 and abs(cb[0].item() - b) < 1e-5 and abs(ca[1].item() - var) < 1e-5:
                cause = usual_cause(0.0, ((0.0, c),))
                break
        expect(mean_ok and var_ok,
               say(en=f"at t = {ti}: averaging your posterior over x_t ~ q(x_t | x0) gives x_{{t−1}} mean "
                      f"{got_mean:.6f}·x0 and variance {got_var:.6f}, but q(x_{{t−1}} | x0) has mean "
                      f"{ab_prev ** 0.5:.6f}·x0 and variance {1 - ab_prev:.6f}. {cause.en}",
                   zh=f"t = {ti} 时：把你的后验对 x_t ~ q(x_t | x0) 取平均，得到 x_{{t−1}} 的均值 {got_mean:.6f}·x0、"
                      f"方差 {got_var:.6f}，但 q(x_{{t−1}} | x0) 的均值是 {ab_prev ** 0.5:.6f}·x0、方差是 "
                      f"{1 - ab_prev:.6f}。{cause.zh}"))


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
        expect_close(variance[first], torch.zeros(2, 3, 2),
                     say(en=f"posterior variance at t = 0 (T = {T})", zh=f"t = 0 时的后验方差（T = {T}）"), atol=1e-7,
                     rtol=0.0, hint=FIRST_STEP_HINT, likely=likely(x0[first], xt[first], t[first], betas, 1, (2, 3, 2)))
        expect_close(mean[first], x0[first], say(en=f"posterior mean at t = 0 (T = {T}), which must be x0",
                                                 zh=f"t = 0 时的后验均值（T = {T}），它必须等于 x0"),
                     atol=1e-6, rtol=rtol, hint=FIRST_STEP_HINT, likely=likely(x0[first], xt[first], t[first], betas, 0))
        want_mean, want_var = oracle(x0, xt, t, betas)
        expect_close(variance, want_var.reshape(4, 1, 1).expand(4, 3, 2).float(),
                     say(en=f"posterior variance for t = {t.tolist()} (T = {T})",
                         zh=f"t = {t.tolist()} 时的后验方差（T = {T}）"),
                     atol=1e-7, rtol=rtol, hint=HINT, likely=likely(x0, xt, t, betas, 1, (4, 3, 2)))
        expect_close(mean, want_mean.float(), say(en=f"posterior mean for t = {t.tolist()} (T = {T})",
                                                  zh=f"t = {t.tolist()} 时的后验均值（T = {T}）"),
                     atol=1e-5, rtol=rtol, hint=HINT, likely=likely(x0, xt, t, betas, 0))
