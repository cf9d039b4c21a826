"""langevin-dynamics: x ← x + (η/2)·score + √η·noise, and a sampler that repeats it with fresh noise.

Oracles: the step's closed form in float64; for the sampler (whose draw order is free) only reproducibility and
statistics: for a 1-D Gaussian N(μ, s²), the discretized chain x' = x − (η/(2s²))(x − μ) + √η·z is an AR(1)
process with stationary mean μ and variance s²/(1 − η/(4s²)) (not s²: the step size biases it).
"""
import torch

from genprep.learner.checks import expect, expect_close, expect_tensor

STEP_HINT = "x_new = x + (step_size/2)·score + √step_size·noise: HALF the step on the drift, the SQUARE ROOT on the noise."


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
        expect_close(got, want.float(), what, atol=1e-5, rtol=1e-5, hint=STEP_HINT)


def test_step_noise_scale_is_the_square_root_of_the_step(impl):
    _, _, noise = draws(1, (5,))
    got = impl.langevin_step(torch.zeros(5), torch.zeros(5), 0.04, noise)
    expect_close(got, 0.2 * noise, "langevin_step(x=0, score=0, step_size=0.04, noise)", atol=1e-6,
                 hint="With no drift the step adds √η·noise = 0.2·noise for η = 0.04 (not η·noise = 0.04·noise): "
                      "Brownian motion over a time η has standard deviation √η.")
    _, score, _ = draws(2, (5,))
    got = impl.langevin_step(torch.zeros(5), score, 0.04, torch.zeros(5))
    expect_close(got, 0.02 * score, "langevin_step(x=0, score, step_size=0.04, noise=0)", atol=1e-6,
                 hint="The drift is (η/2)·score = 0.02·score for η = 0.04: half the step size, not the full step.")


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
           "two runs of langevin_sample with generators seeded identically gave different results; draw ALL the "
           "noise from the generator passed in: torch.randn(x.shape, generator=generator).")
    expect(not torch.equal(runs[0], runs[2]),
           "generators with different seeds gave identical samples; the noise must come from the generator.")


def test_sampler_reaches_the_discretized_stationary_distribution(impl):
    mu, s2, eta, steps = 3.0, 0.25, 0.1, 100
    calls = []
    score = gaussian_score(mu, s2)

    def counted(x):
        calls.append(1)
        return score(x)

    x0 = torch.zeros(30000)  # 30000 chains in 1-D, started far from the mean
    got = impl.langevin_sample(counted, x0, eta, steps, generator=torch.Generator().manual_seed(0)).double()
    expect(len(calls) == steps, f"langevin_sample(..., n_steps={steps}) called score_fn {len(calls)} times; "
                                f"expected once per step ({steps}), at the current x.")
    want_var = s2 / (1 - eta / (4 * s2))  # AR(1): V = a²V + η with a = 1 − η/(2s²)
    mean, var = got.mean().item(), got.var().item()
    expect(abs(var / want_var - 1) < 0.05,
           f"the variance of 30000 Langevin chains for N({mu}, {s2}) with η = {eta} is {var:.4f}; the discretized "
           f"chain's stationary variance is s²/(1 − η/(4s²)) = {want_var:.4f} (s² = {s2} only as η → 0). Too small "
           "(≈ 0.028) means the noise is scaled by η instead of √η; far off in other ways means the drift is not "
           "η/2·score or the noise is not fresh at each step. " + STEP_HINT)
    expect(abs(mean - mu) < 0.02,
           f"the mean of 30000 Langevin chains for N({mu}, {s2}) after {steps} steps of η = {eta} is {mean:.4f}, "
           f"expected {mu}. Is the drift (η/2)·score, with the score evaluated at the current x? " + STEP_HINT)


def test_sampler_without_a_generator_uses_the_global_rng(impl):
    torch.manual_seed(0)
    got = impl.langevin_sample(gaussian_score(0.0, 1.0), torch.zeros(3, 2), 0.05, 5)
    expect_tensor(got, "langevin_sample(score, x0 (3, 2), 0.05, 5) with generator=None", shape=(3, 2),
                  dtype=torch.float32)
    expect(bool((got != 0).all()), "with generator=None the sampler must still add fresh noise (from the global RNG).")


def test_does_not_modify_inputs(impl):
    x, score, noise = draws(3, (4, 3))
    before = [v.clone() for v in (x, score, noise)]
    impl.langevin_step(x, score, 0.3, noise)
    impl.langevin_sample(gaussian_score(0.0, 1.0), x, 0.1, 3, generator=torch.Generator().manual_seed(1))
    expect(all(torch.equal(a, b) for a, b in zip(before, (x, score, noise))),
           "langevin_step or langevin_sample modified an input in place; use x = x + ..., not x += ... on x0.")
