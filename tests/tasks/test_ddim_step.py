"""ddim-step: one DDIM update x_t → x_prev, 0-based t, t_prev = −1 meaning ᾱ_prev = 1.

Oracles: the closed form written out in float64; the DDPM posterior q(x_{t−1} | x_t, x̂₀) from its own formula
(β̃_t and the two mean coefficients, built from betas); a point-mass data distribution whose exact noise prediction
is known, so that the true trajectory √ᾱ_s·x0 + √(1 − ᾱ_s)·ε is known at every step.
"""
import math

import torch

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor, say

HINT = say(en="x̂₀ = (x_t − √(1 − ᾱ_t)·ε)/√ᾱ_t; σ = η·√((1 − ᾱ_prev)/(1 − ᾱ_t))·√(1 − ᾱ_t/ᾱ_prev); "
              "x_prev = √ᾱ_prev·x̂₀ + √(1 − ᾱ_prev − σ²)·ε + σ·noise, with ᾱ_t = alphas_cumprod[t] (0-based) and "
              "ᾱ_prev = alphas_cumprod[t_prev], or 1 when t_prev = −1.",
           zh="x̂₀ = (x_t − √(1 − ᾱ_t)·ε)/√ᾱ_t；σ = η·√((1 − ᾱ_prev)/(1 − ᾱ_t))·√(1 − ᾱ_t/ᾱ_prev)；"
              "x_prev = √ᾱ_prev·x̂₀ + √(1 − ᾱ_prev − σ²)·ε + σ·noise，其中 ᾱ_t = alphas_cumprod[t]（下标从 0 开始），"
              "ᾱ_prev = alphas_cumprod[t_prev]，t_prev = −1 时为 1。")


def schedule(T=20, lo=0.01, hi=0.25):
    """Large betas, so that an off-by-one index or a wrong σ changes the result visibly."""
    betas = torch.linspace(lo, hi, T, dtype=torch.float64)
    return betas, torch.cumprod(1 - betas, 0).float()


def oracle(x_t, eps, t, t_prev, alphas_cumprod, eta, noise):
    """The contract's closed form in float64."""
    a_t = alphas_cumprod[t].double()
    a_prev = alphas_cumprod[t_prev].double() if t_prev >= 0 else torch.tensor(1.0, dtype=torch.float64)
    x_t, eps, noise = x_t.double(), eps.double(), noise.double()
    x0 = (x_t - (1 - a_t).sqrt() * eps) / a_t.sqrt()
    sigma = eta * ((1 - a_prev) / (1 - a_t)).sqrt() * (1 - a_t / a_prev).sqrt()
    return (a_prev.sqrt() * x0 + (1 - a_prev - sigma ** 2).clamp(min=0).sqrt() * eps + sigma * noise).float()


def variant(x_t, eps, t, t_prev, alphas_cumprod, eta, noise, clip=False, full_direction=False, one_based=False,
            wrap=False, sigma_beta=False):
    """The closed form with one of the usual mistakes."""
    i, j = (t - 1, t_prev - 1) if one_based else (t, t_prev)
    a_t = alphas_cumprod[i].double()
    a_prev = (alphas_cumprod[j].double() if (j >= 0 or wrap or (one_based and t_prev >= 0))
              else torch.tensor(1.0, dtype=torch.float64))
    x_t, eps, noise = x_t.double(), eps.double(), noise.double()
    x0 = (x_t - (1 - a_t).sqrt() * eps) / a_t.sqrt()
    if clip:
        x0 = x0.clamp(-1, 1)
    sigma = eta * (1 - a_t / a_prev).clamp(min=0).sqrt()
    if not sigma_beta:
        sigma = sigma * ((1 - a_prev) / (1 - a_t)).sqrt()
    direction = (1 - a_prev).sqrt() if full_direction else (1 - a_prev - sigma ** 2).clamp(min=0).sqrt()
    return (a_prev.sqrt() * x0 + direction * eps + sigma * noise).float()


def likely_ddim_mistakes(x_t, eps, t, t_prev, alphas_cumprod, eta, noise):
    """What the usual DDIM mistakes give, each with its cause."""
    args = (x_t, eps, t, t_prev, alphas_cumprod, eta, noise)
    pairs = [(variant(*args, clip=True),
              say(en="x̂₀ clamped to [−1, 1] (the clip_sample option); this update has no clipping.",
                  zh="把 x̂₀ 截断到了 [−1, 1]（即 clip_sample 选项）；这里的更新不做截断。")),
             (variant(*args, full_direction=True),
              say(en="the direction term √(1 − ᾱ_prev)·ε ignores σ; use √(1 − ᾱ_prev − σ²)·ε so that the total "
                     "variance stays 1 − ᾱ_prev.",
                  zh="方向项 √(1 − ᾱ_prev)·ε 没有考虑 σ；应使用 √(1 − ᾱ_prev − σ²)·ε，让总方差保持为 1 − ᾱ_prev。")),
             (variant(*args, sigma_beta=True),
              say(en="σ = η·√(1 − ᾱ_t/ᾱ_prev) without the factor √((1 − ᾱ_prev)/(1 − ᾱ_t)); at η = 1 that is β_t, "
                     "not the posterior variance β̃_t.",
                  zh="σ = η·√(1 − ᾱ_t/ᾱ_prev) 漏了因子 √((1 − ᾱ_prev)/(1 − ᾱ_t))；η = 1 时它是 β_t，而不是后验方差 "
                     "β̃_t。"))]
    if t >= 1:
        pairs.append((variant(*args, one_based=True),
                      say(en="1-based indices (alphas_cumprod[t − 1]); t and t_prev are 0-based: ᾱ_t = "
                             "alphas_cumprod[t].",
                          zh="用了从 1 开始的下标（alphas_cumprod[t − 1]）；t 和 t_prev 都从 0 开始：ᾱ_t = "
                             "alphas_cumprod[t]。")))
    if t_prev == -1:
        pairs.append((variant(*args, wrap=True),
                      say(en="alphas_cumprod[-1] read for t_prev = −1, which in Python is the LAST (noisiest) entry; "
                             "special-case it: ᾱ_prev = 1.",
                          zh="t_prev = −1 时读了 alphas_cumprod[-1]，在 Python 里这是最后（噪声最大）的那一项；要单独"
                             "处理：ᾱ_prev = 1。")))
    return tuple(pairs)


def draws(shape, seed):
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(*shape, generator=g) for _ in range(3))


def test_closed_form_for_several_steps_and_etas(impl):
    _, ac = schedule()
    x_t, eps, noise = draws((3, 2, 4), 0)
    for t, t_prev in ((19, 14), (10, 9), (5, 0), (7, 2)):
        for eta in (0.0, 0.5, 1.0):
            what = f"ddim_step(x_t, eps, t={t}, t_prev={t_prev}, alphas_cumprod, eta={eta}, noise)"
            got = impl.ddim_step(x_t, eps, t, t_prev, ac, eta=eta, noise=noise)
            expect_tensor(got, what, shape=(3, 2, 4), dtype=torch.float32)
            extra = say(en=" With eta > 0 the direction term shrinks to √(1 − ᾱ_prev − σ²): σ² is taken out of the "
                           "variance given to ε.",
                        zh="eta > 0 时方向项缩小为 √(1 − ᾱ_prev − σ²)：σ² 要从分给 ε 的方差中扣除。")
            expect_close(got, oracle(x_t, eps, t, t_prev, ac, eta, noise), what, atol=1e-5, rtol=1e-4,
                         hint=HINT + extra if eta else HINT,
                         likely=likely_ddim_mistakes(x_t, eps, t, t_prev, ac, eta, noise))


def test_eta_zero_is_deterministic_and_ignores_noise(impl):
    _, ac = schedule()
    x_t, eps, noise = draws((4, 3), 1)
    what = "ddim_step(x_t, eps, t=12, t_prev=6, alphas_cumprod, eta=0.0)"
    got = expect_deterministic(impl.ddim_step, x_t, eps, 12, 6, ac, what=what)
    expect_close(got, oracle(x_t, eps, 12, 6, ac, 0.0, torch.zeros_like(x_t)), what, atol=1e-5, hint=HINT,
                 likely=likely_ddim_mistakes(x_t, eps, 12, 6, ac, 0.0, torch.zeros_like(x_t)))
    with_noise = impl.ddim_step(x_t, eps, 12, 6, ac, eta=0.0, noise=noise)
    expect_close(with_noise, got, say(en="ddim_step with eta=0 and a noise tensor vs without one",
                                      zh="eta=0 时传入 noise 与不传 noise 的 ddim_step 比较"), atol=1e-6,
                 hint=say(en="With eta = 0, σ = 0: DDIM is deterministic and the noise must have no effect.",
                          zh="eta = 0 时 σ = 0：DDIM 是确定性的，noise 不应产生任何影响。"))


def test_eta_one_on_adjacent_steps_is_the_ddpm_posterior(impl):
    # DDPM: q(x_{t−1} | x_t, x0) = N(c0·x0 + ct·x_t, β̃_t), c0 = √ᾱ_{t−1}β_t/(1 − ᾱ_t),
    # ct = √α_t(1 − ᾱ_{t−1})/(1 − ᾱ_t), β̃_t = (1 − ᾱ_{t−1})β_t/(1 − ᾱ_t); with x0 = x̂₀ from ε.
    betas, ac = schedule()
    ab = torch.cumprod(1 - betas, 0)
    x_t, eps, _ = draws((5, 3), 2)
    for t in (1, 7, 19):
        beta, a_t, a_prev = betas[t], ab[t], ab[t - 1]
        x0 = (x_t.double() - (1 - a_t).sqrt() * eps.double()) / a_t.sqrt()
        mean = a_prev.sqrt() * beta / (1 - a_t) * x0 + (1 - beta).sqrt() * (1 - a_prev) / (1 - a_t) * x_t.double()
        std = ((1 - a_prev) / (1 - a_t) * beta).sqrt()
        got_mean = impl.ddim_step(x_t, eps, t, t - 1, ac, eta=1.0, noise=torch.zeros_like(x_t))
        got = impl.ddim_step(x_t, eps, t, t - 1, ac, eta=1.0, noise=torch.ones_like(x_t))
        zero = torch.zeros_like(x_t)
        expect_close(got_mean, mean.float(),
                     say(en=f"ddim_step(eta=1, t={t}, t_prev={t - 1}, noise=0) vs the DDPM posterior mean",
                         zh=f"ddim_step(eta=1, t={t}, t_prev={t - 1}, noise=0) 与 DDPM 后验均值的比较"),
                     atol=1e-5, rtol=1e-4,
                     hint=say(en="With η = 1 and t_prev = t − 1 DDIM is DDPM's ancestral step: its mean is the "
                                 "posterior mean at x̂₀. " + HINT.en,
                              zh="η = 1 且 t_prev = t − 1 时 DDIM 就是 DDPM 的祖先采样步：它的均值是 x̂₀ 处的后验均值。"
                                 + HINT.zh),
                     likely=likely_ddim_mistakes(x_t, eps, t, t - 1, ac, 1.0, zero))
        sigma_mistakes = tuple((r - m, c) for (r, c), (m, _) in zip(
            likely_ddim_mistakes(x_t, eps, t, t - 1, ac, 1.0, torch.ones_like(x_t)),
            likely_ddim_mistakes(x_t, eps, t, t - 1, ac, 1.0, zero)))
        expect_close(got - got_mean, std.float().expand(5, 3),
                     say(en=f"the noise coefficient σ of ddim_step(eta=1, t={t}, t_prev={t - 1})",
                         zh=f"ddim_step(eta=1, t={t}, t_prev={t - 1}) 的噪声系数 σ"), atol=1e-5, rtol=1e-3,
                     hint=say(en="With η = 1 on adjacent steps σ² must equal the DDPM posterior variance "
                                 "β̃_t = (1 − ᾱ_{t−1})/(1 − ᾱ_t)·β_t, not β_t: keep BOTH square-root factors in σ.",
                              zh="η = 1 且为相邻步时，σ² 必须等于 DDPM 的后验方差 β̃_t = (1 − ᾱ_{t−1})/(1 − ᾱ_t)·β_t，"
                                 "而不是 β_t：σ 中的两个平方根因子都要保留。"),
                     likely=sigma_mistakes)


def test_last_step_returns_x0_hat(impl):
    _, ac = schedule()
    x_t, eps, noise = draws((2, 5), 3)
    for t in (0, 4):
        x0 = (x_t.double() - (1 - ac[t].double()).sqrt() * eps.double()) / ac[t].double().sqrt()
        for eta in (0.0, 1.0):
            expect_close(impl.ddim_step(x_t, eps, t, -1, ac, eta=eta, noise=noise), x0.float(),
                         say(en=f"ddim_step(x_t, eps, t={t}, t_prev=-1, eta={eta}) (the last step)",
                             zh=f"ddim_step(x_t, eps, t={t}, t_prev=-1, eta={eta})（最后一步）"), atol=1e-5, rtol=1e-4,
                         hint=say(en="t_prev = −1 means ᾱ_prev = 1, so σ = 0 and the step returns x̂₀ exactly. "
                                     "alphas_cumprod[-1] is the LAST (noisiest) entry in Python — special-case −1.",
                                  zh="t_prev = −1 表示 ᾱ_prev = 1，所以 σ = 0，这一步恰好返回 x̂₀。在 Python 里 "
                                     "alphas_cumprod[-1] 是最后（噪声最大）的那一项——要单独处理 −1。"),
                         likely=likely_ddim_mistakes(x_t, eps, t, -1, ac, eta, noise))


def test_eta_zero_follows_the_trajectory_of_a_point_mass(impl):
    # Data = a single point x0: the exact ε at (x, s) is (x − √ᾱ_s·x0)/√(1 − ᾱ_s). Deterministic DDIM must then
    # land on √ᾱ_s·x0 + √(1 − ᾱ_s)·ε₀ at every step of any sub-sequence, and on x0 at the end.
    betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)
    ac = torch.cumprod(1 - betas, 0).float()
    g = torch.Generator().manual_seed(4)
    x0, eps0 = torch.randn(2, 3, generator=g), torch.randn(2, 3, generator=g)
    steps = [999, 900, 700, 400, 150, 40, 5, -1]
    x = (ac[999].double().sqrt() * x0 + (1 - ac[999].double()).sqrt() * eps0).float()
    for t, t_prev in zip(steps, steps[1:]):
        eps = ((x.double() - ac[t].double().sqrt() * x0) / (1 - ac[t].double()).sqrt()).float()
        x = impl.ddim_step(x, eps, t, t_prev, ac, eta=0.0)
        a_prev = ac[t_prev].double() if t_prev >= 0 else torch.tensor(1.0, dtype=torch.float64)
        want = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps0
        expect_close(x, want.float(), say(en=f"deterministic DDIM from t={t} to t_prev={t_prev} on a point mass",
                                          zh=f"点质量分布上从 t={t} 到 t_prev={t_prev} 的确定性 DDIM"), atol=2e-4,
                     rtol=1e-3,
                     hint=say(en="With the exact ε, deterministic DDIM keeps the same ε along the path: "
                                 "x_prev = √ᾱ_prev·x0 + √(1 − ᾱ_prev)·ε. " + HINT.en,
                              zh="用精确的 ε 时，确定性 DDIM 沿路径保持同一个 ε：x_prev = √ᾱ_prev·x0 + √(1 − ᾱ_prev)·ε。"
                                 + HINT.zh))


def test_fresh_noise_when_not_given(impl):
    _, ac = schedule()
    torch.manual_seed(1234)  # a global stream unrelated to the inputs' generator
    x_t, eps, _ = draws((200, 50), 5)
    t, t_prev = 10, 6
    mean = impl.ddim_step(x_t, eps, t, t_prev, ac, eta=1.0, noise=torch.zeros_like(x_t))
    unit = impl.ddim_step(x_t, eps, t, t_prev, ac, eta=1.0, noise=torch.ones_like(x_t)) - mean  # = σ
    z = ((impl.ddim_step(x_t, eps, t, t_prev, ac, eta=1.0) - mean) / unit).double()
    # 10000 standard normals: the mean has s.e. 0.01 and the std 0.007; 0.06 holds for any correct draw order.
    expect(abs(z.mean().item()) < 0.06 and abs(z.std().item() - 1) < 0.06,
           say(en=f"with eta=1 and noise=None, (x_prev − mean)/σ over 10000 entries has mean {z.mean().item():.3f} and "
                  f"std {z.std().item():.3f}; a fresh standard normal draw gives 0 and 1. Draw torch.randn_like(x_t) "
                  "when noise is None (not torch.rand, not zeros).",
               zh=f"eta=1 且 noise=None 时，10000 个元素上 (x_prev − mean)/σ 的均值为 {z.mean().item():.3f}、标准差为 "
                  f"{z.std().item():.3f}；新抽取的标准正态噪声应得到 0 和 1。noise 为 None 时要抽取 "
                  "torch.randn_like(x_t)（不是 torch.rand，也不是全零）。"))


def test_does_not_modify_inputs(impl):
    _, ac = schedule()
    x_t, eps, noise = draws((2, 3), 6)
    before = [v.clone() for v in (x_t, eps, noise, ac)]
    impl.ddim_step(x_t, eps, 9, 3, ac, eta=0.7, noise=noise)
    expect(all(torch.equal(a, b) for a, b in zip(before, (x_t, eps, noise, ac))),
           say(en="ddim_step modified one of its inputs in place; use out-of-place ops (x - y, not x.sub_(y)).",
               zh="ddim_step 原地修改了某个输入；请使用非原地运算（x - y，而不是 x.sub_(y)）。"))


def test_float64_inputs_keep_their_dtype(impl):
    _, ac = schedule()
    x_t, eps, noise = (v.double() for v in draws((2, 3), 7))
    got = impl.ddim_step(x_t, eps, 9, 3, ac.double(), eta=0.3, noise=noise)
    expect_tensor(got, say(en="ddim_step on float64 inputs", zh="float64 输入上的 ddim_step"), shape=(2, 3),
                  dtype=torch.float64)
    expect(math.isfinite(got.abs().max().item()),
           say(en="ddim_step returned a non-finite value on float64 inputs",
               zh="ddim_step 在 float64 输入上返回了非有限值"))
