"""langevin-dynamics: x ← x + (η/2)·score + √η·noise, and a sampler that repeats it with fresh noise.

Oracles: the step's closed form in float64; for the sampler (whose draw order is free) only reproducibility and
statistics: for a 1-D Gaussian N(μ, s²), the discretized chain x' = x − (η/(2s²))(x − μ) + √η·z is an AR(1)
process with stationary mean μ and variance s²/(1 − η/(4s²)) (not s²: the step size biases it).
"""
import torch

from genprep.learner.checks import expect, expect_close, expect_tensor, say

STEP_HINT = say(en="x_new = x + (step_size/2)·score + √step_size·noise: HALF the step on the drift, the SQUARE ROOT on the "
                   "noise.",
                zh="x_new = x + (step_size/2)·score + √step_size·noise：漂移项用步长的【一半】，噪声项用步长的【平方根】。")
FULL_DRIFT = say(en="a full step η·score on the drift; the drift is (η/2)·score.",
                 zh="漂移项用了完整步长 η·score；漂移项应为 (η/2)·score。")
NOISE_ETA = say(en="noise scaled by η instead of √η; Brownian motion over a time η has standard deviation √η.",
                zh="噪声乘的是 η 而不是 √η；时长为 η 的布朗运动标准差是 √η。")


def likely_step_mistakes(x, score, eta, noise):
    x, score, noise = x.double(), score.double(), noise.double()
    return (((x + eta * score + eta ** 0.5 * noise).float(), FULL_DRIFT),
            ((x + eta / 2 * score + eta * noise).float(), NOISE_ETA))


def draws(seed, shape):
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(*shape, generator=g) for _ in range(3))


def test_step_matches_the_closed_form(impl):
    x, score, noise = draws(0, (3, 4))
    for eta in (0.01, 0.5, 2.0):
        what = f"langevin_step(x (3, 4), score, step_size={eta}, noise)"
        got = impl.langevin_step(x, score, eta, noise)
        expect_tensor(got, what, shape=(3, 4), dtype=torch.float32)
        want = x.double() + eta / 2 * score.double() + eta ** 0.5 * noise.double()
        expect_close(got, want.float(), what, atol=1e-5, rtol=1e-5, hint=STEP_HINT,
                     likely=likely_step_mistakes(x, score, eta, noise))


def test_step_noise_scale_is_the_square_root_of_the_step(impl):
    _, _, noise = draws(1, (5,))
    got = impl.langevin_step(torch.zeros(5), torch.zeros(5), 0.04, noise)
    expect_close(got, 0.2 * noise, "langevin_step(x=0, score=0, step_size=0.04, noise)", atol=1e-6,
                 hint=say(en="With no drift the step adds √η·noise = 0.2·noise for η = 0.04 (not η·noise = 0.04·noise): "
                             "Brownian motion over a time η has standard deviation √η.",
                          zh="没有漂移时，η = 0.04 的一步加上的是 √η·noise = 0.2·noise（不是 η·noise = 0.04·noise）："
                             "时长为 η 的布朗运动标准差是 √η。"))
    _, score, _ = draws(2, (5,))
    got = impl.langevin_step(torch.zeros(5), score, 0.04, torch.zeros(5))
    expect_close(got, 0.02 * score, "langevin_step(x=0, score, step_size=0.04, noise=0)", atol=1e-6,
                 hint=say(en="The drift is (η/2)·score = 0.02·score for η = 0.04: half the step size, not the full step.",
                          zh="η = 0.04 时漂移项是 (η/2)·score = 0.02·score：用步长的一半，不是完整步长。"))


def gaussian_score(mu, s2):
    def score(x):
        return -(x - mu) / s2  # ∇ log N(x; μ, s²)
    return score


def test_sampler_is_reproducible_with_a_seeded_generator(impl):
    score = gaussian_score(1.0, 0.5)
    x0 = torch.zeros(64, 2)
    runs = [impl.langevin_sample(score, x0, 0.1, 20, generator=torch.Generator().manual_seed(s)) for s in (7, 7, 8)]
    expect_tensor(runs[0], "langevin_sample(score, x0 (64, 2), 0.1, 20, generator)", shape=(64, 2),
                  dtype=torch.float32)
    expect(torch.equal(runs[0], runs[1]),
           say(en="two runs of langevin_sample with generators seeded identically gave different results; draw ALL the "
                  "noise from the generator passed in: torch.randn(x.shape, generator=generator).",
               zh="用种子相同的生成器运行两次 langevin_sample，结果却不同；所有噪声都要从传入的生成器里采样："
                  "torch.randn(x.shape, generator=generator)。"))
    expect(not torch.equal(runs[0], runs[2]),
           say(en="generators with different seeds gave identical samples; the noise must come from the generator.",
               zh="种子不同的生成器给出了相同的样本；噪声必须来自传入的生成器。"))


def test_sampler_reaches_the_discretized_stationary_distribution(impl):
    mu, s2, eta, steps = 3.0, 0.25, 0.1, 100
    calls = []
    score = gaussian_score(mu, s2)

    def counted(x):
        calls.append(1)
        return score(x)

    x0 = torch.zeros(30000)  # 30000 chains in 1-D, started far from the mean
    got = impl.langevin_sample(counted, x0, eta, steps, generator=torch.Generator().manual_seed(0)).double()
    expect(len(calls) == steps,
           say(en=f"langevin_sample(..., n_steps={steps}) called score_fn {len(calls)} times; expected once per step "
                  f"({steps}), at the current x.",
               zh=f"langevin_sample(..., n_steps={steps}) 调用了 score_fn {len(calls)} 次；应每步一次（共 {steps} 次），"
                  "在当前的 x 处调用。"))
    want_var = s2 / (1 - eta / (4 * s2))  # AR(1): V = a²V + η with a = 1 − η/(2s²)
    mean, var = got.mean().item(), got.var().item()
    # The stationary variances the usual mistakes give: V = b / (1 − a²) for x' = a·x + ... + √b·z.
    a_half, a_full = 1 - eta / (2 * s2), 1 - eta / s2
    mistakes = ((eta ** 2 / (1 - a_half ** 2), NOISE_ETA), (eta / (1 - a_full ** 2), FULL_DRIFT),
                (4 * s2 ** 2 / eta, say(en="one noise tensor reused at every step: the chain settles at a fixed point "
                                           "instead of sampling; draw fresh noise inside the loop.",
                                        zh="每一步都复用同一个噪声张量：链会停在一个不动点上，而不是在采样；"
                                           "要在循环里每步重新采样噪声。")))
    cause = next((say(en="Your variance is what a known mistake gives: " + c.en,
                      zh="你的方差与一个常见错误给出的一致：" + c.zh) for v, c in mistakes if abs(var / v - 1) < 0.1),
                 STEP_HINT)
    expect(abs(var / want_var - 1) < 0.05,
           say(en=f"the variance of 30000 Langevin chains for N({mu}, {s2}) with η = {eta} is {var:.4f}; the "
                  f"discretized chain's stationary variance is s²/(1 − η/(4s²)) = {want_var:.4f} (s² = {s2} only as "
                  f"η → 0). {cause.en}",
               zh=f"针对 N({mu}, {s2})、η = {eta} 的 30000 条 Langevin 链的方差为 {var:.4f}；离散化后的链的平稳方差是 "
                  f"s²/(1 − η/(4s²)) = {want_var:.4f}（只有 η → 0 时才是 s² = {s2}）。{cause.zh}"))
    expect(abs(mean - mu) < 0.02,
           say(en=f"the mean of 30000 Langevin chains for N({mu}, {s2}) after {steps} steps of η = {eta} is {mean:.4f}, "
                  f"expected {mu}. Is the drift (η/2)·score, with the score evaluated at the current x? " + STEP_HINT.en,
               zh=f"针对 N({mu}, {s2}) 的 30000 条 Langevin 链在 η = {eta} 下走 {steps} 步后均值为 {mean:.4f}，"
                  f"应为 {mu}。漂移项是不是 (η/2)·score，且 score 是在当前 x 处计算的？" + STEP_HINT.zh))


def test_sampler_without_a_generator_uses_the_global_rng(impl):
    torch.manual_seed(0)
    got = impl.langevin_sample(gaussian_score(0.0, 1.0), torch.zeros(3, 2), 0.05, 5)
    expect_tensor(got, say(en="langevin_sample(score, x0 (3, 2), 0.05, 5) with generator=None",
                           zh="generator=None 时的 langevin_sample(score, x0 (3, 2), 0.05, 5)"), shape=(3, 2),
                  dtype=torch.float32)
    expect(bool((got != 0).all()),
           say(en="with generator=None the sampler must still add fresh noise (from the global RNG).",
               zh="generator=None 时采样器仍要加入新的噪声（来自全局随机数生成器）。"))


def test_does_not_modify_inputs(impl):
    x, score, noise = draws(3, (4, 3))
    before = [v.clone() for v in (x, score, noise)]
    impl.langevin_step(x, score, 0.3, noise)
    impl.langevin_sample(gaussian_score(0.0, 1.0), x, 0.1, 3, generator=torch.Generator().manual_seed(1))
    expect(all(torch.equal(a, b) for a, b in zip(before, (x, score, noise))),
           say(en="langevin_step or langevin_sample modified an input in place; use x = x + ..., not x += ... on x0.",
               zh="langevin_step 或 langevin_sample 原地修改了输入；请写 x = x + ...，不要对 x0 做 x += ...。"))
