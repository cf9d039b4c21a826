"""flow-matching: the rectified-flow loss on x_t = (1 − t)·x0 + t·x1, and Euler sampling from t = 0 to 1.

Oracles: the loss written out in float64 with the same toy velocity model; velocity fields whose Euler
trajectories are known exactly (the straight path to a point, a time-only field summed by hand, and the linear
field that carries N(0, 1) to N(μ, s²), whose Euler map is an affine recursion computed in float64).
"""
import math

import torch
import torch.nn as nn

from genprep.learner.checks import CheckFailed, expect, expect_close, expect_scalar, expect_tensor

LOSS_HINT = ("x_t = (1 − t)·x0 + t·x1 with t reshaped to (B, 1, ..., 1); target = x1 − x0 (data minus noise); "
             "loss = ((model(x_t, t) − target)²).mean() over ALL elements, with model called on t of shape (B,).")
EULER_HINT = ("x = x0; for k in range(steps): t_k = k/steps as a (B,) tensor; x = x + (1/steps)·model(x, t_k). "
              "Evaluate at the LEFT end of each step: t = 0, 1/steps, …, (steps − 1)/steps.")


class Velocity:
    """A toy velocity net tanh(x·W + t·a), per example; records its calls."""

    def __init__(self, seed, d):
        g = torch.Generator().manual_seed(seed)
        self.W = torch.randn(d, d, generator=g) / d ** 0.5
        self.a = torch.randn(d, generator=g)
        self.calls = []

    def pure(self, x, t):
        flat = x.reshape(x.shape[0], -1).double()
        return torch.tanh(flat @ self.W.double() + t.double()[:, None] * self.a.double()).reshape(x.shape)

    def __call__(self, x, t):
        self.calls.append((x.detach().clone(), t.detach().clone()))
        check_t(x, t)
        return self.pure(x, t).to(x.dtype)


def check_t(x, t):
    if not (isinstance(t, torch.Tensor) and t.dim() == 1 and t.shape[0] == x.shape[0]):
        shape = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
        raise CheckFailed(f"model(x, t) was called with x {tuple(x.shape)} and t {shape}; t must be a (B,) tensor, "
                          "one time per example (torch.full((B,), k/steps) in euler_sample).")


def loss_oracle(model, x1, x0, t):
    tb = t.double().reshape(-1, *([1] * (x1.dim() - 1)))
    x_t = (1 - tb) * x0.double() + tb * x1.double()
    return (model.pure(x_t, t) - (x1.double() - x0.double())).pow(2).mean()


def data(seed, shape):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g) * 2 + 1, torch.randn(*shape, generator=g)


def test_the_exact_conditional_velocity_has_zero_loss(impl):
    # v(x, t) = (x1 − x)/(1 − t) points from x to x1 at the speed that reaches it at t = 1. On the path
    # x_t = (1 − t)·x0 + t·x1 it equals x1 − x0 exactly, so the loss is 0; on the reversed path t·x0 + (1 − t)·x1
    # it is t/(1 − t)·(x1 − x0), and against the reversed target x0 − x1 the loss is 4·mean((x1 − x0)²).
    x1, x0 = data(7, (4, 2, 3))
    t = torch.tensor([0.1, 0.55, 0.8, 0.3])

    def to_x1(x, tt):
        check_t(x, tt)
        return (x1 - x) / (1 - tt.reshape(-1, 1, 1))

    scale = (x1 - x0).double().pow(2).mean().item()
    got = impl.flow_matching_loss(to_x1, x1, x0, t)
    expect_scalar(got, 0.0, "flow_matching_loss with the exact velocity (x1 − x_t)/(1 − t) towards each x1",
                  atol=1e-5 * scale, rtol=0,
                  hint=f"This model returns x1 − x0 exactly on the right path, so the loss must be 0 (mean((x1 − x0)²) "
                       f"= {scale:.3f} for scale). About 4× that means the target has the wrong sign (x0 − x1 instead "
                       "of x1 − x0); another non-zero value means x_t is not (1 − t)·x0 + t·x1 (t = 0 is the noise, "
                       "t = 1 the data). " + LOSS_HINT)


def test_loss_matches_the_oracle_with_given_x0_and_t(impl):
    model = Velocity(0, 6)
    x1, x0 = data(0, (4, 2, 3))
    t = torch.tensor([0.1, 0.55, 0.9, 0.3])
    what = "flow_matching_loss(model, x1 (4, 2, 3), x0, t = [0.1, 0.55, 0.9, 0.3])"
    got = impl.flow_matching_loss(model, x1, x0, t)
    expect_scalar(got, loss_oracle(model, x1, x0, t).float(), what, atol=1e-5, rtol=1e-4,
                  hint=LOSS_HINT + " If yours is 6× too large you summed over the features: take the mean over all "
                                   "elements. A sign error in the target or swapping x0 and x1 in x_t also lands here.")


def test_t_is_broadcast_per_example(impl):
    # B = D = 3: broadcasting t along the LAST dim instead of the batch dim runs without error but is wrong.
    model = Velocity(1, 3)
    x1, x0 = data(1, (3, 3))
    t = torch.tensor([0.2, 0.5, 0.85])
    impl.flow_matching_loss(model, x1, x0, t)
    expect(len(model.calls) == 1, f"flow_matching_loss called the model {len(model.calls)} times; call it once.")
    x_t, t_seen = model.calls[0]
    expect_close(t_seen, t, "the t passed to model(x_t, t)", atol=0,
                 hint="Pass the per-example times unchanged, shape (B,); reshape only for the interpolation.")
    expect_close(x_t, (1 - t[:, None]) * x0 + t[:, None] * x1, "the x_t passed to the model", atol=1e-6,
                 hint="x_t[i] = (1 − t[i])·x0[i] + t[i]·x1[i]: reshape t to (B, 1, ..., 1) so that each example uses "
                      "its own t; t = 0 is the noise x0 and t = 1 the data x1.")


def test_draws_noise_and_times_when_not_given(impl):
    torch.manual_seed(0)
    B = 4000
    seen = []

    def zero_model(x, t):
        seen.append(t.detach().clone())
        check_t(x, t)
        return torch.zeros_like(x)

    loss = impl.flow_matching_loss(zero_model, torch.zeros(B, 4))
    expect_scalar(loss, 1.0, "flow_matching_loss(zero model, x1 = 0, 4000×4) with its own x0", atol=0.06, rtol=0,
                  hint="With x1 = 0 and a zero model the loss is mean(x0²), which is 1 for x0 ~ N(0, I): draw x0 with "
                       "torch.randn_like(x1) (not torch.rand).")
    t = seen[0].double()
    expect(tuple(t.shape) == (B,), f"model got t of shape {tuple(t.shape)}, expected ({B},)")
    expect(bool((t >= 0).all() and (t <= 1).all()) and abs(t.mean().item() - 0.5) < 0.03
           and abs(t.var().item() - 1 / 12) < 0.01,
           f"the drawn times have min {t.min().item():.3f}, max {t.max().item():.3f}, mean {t.mean().item():.3f} and "
           f"variance {t.var().item():.4f}; one t per example from U(0, 1) has mean 0.5 and variance 1/12 ≈ 0.0833 — "
           "draw torch.rand(B), not one t for the whole batch.")


def test_loss_gradient_reaches_the_model(impl):
    torch.manual_seed(1)
    net = nn.Linear(3, 3)

    def model(x, t):
        return net(x) + t[:, None]

    x1, x0 = data(2, (5, 3))
    loss = impl.flow_matching_loss(model, x1, x0, torch.full((5,), 0.5))
    expect(isinstance(loss, torch.Tensor) and loss.requires_grad,
           "flow_matching_loss must stay differentiable w.r.t. the model's parameters (no torch.no_grad, no .item()).")
    loss.backward()
    expect(net.weight.grad is not None and net.weight.grad.abs().sum() > 0,
           "backward() from flow_matching_loss did not reach the model's parameters.")


def test_straight_path_velocity_reaches_x1(impl):
    # v(x, t) = (x1 − x)/(1 − t) is the exact velocity towards a point x1: every Euler step lands on the line,
    # so one step (and any number of steps) ends exactly at x1.
    x1, x0 = data(3, (3, 2, 2))

    def to_point(x, t):
        check_t(x, t)
        return (x1 - x) / (1 - t.reshape(-1, 1, 1))

    for steps in (1, 4):
        got = impl.euler_sample(to_point, x0, steps)
        expect_tensor(got, f"euler_sample(model, x0 (3, 2, 2), steps={steps})", shape=(3, 2, 2), dtype=torch.float32)
        expect_close(got, x1, f"euler_sample with the exact straight-path velocity, steps={steps}", atol=1e-5,
                     rtol=1e-5, hint="A straight path is integrated exactly by Euler's method. inf or nan here means "
                                     "the model was evaluated at t = 1: use the LEFT end t_k = k/steps. " + EULER_HINT)


def test_euler_evaluates_at_the_left_end_of_each_step(impl):
    # v(x, t) = c·(1 + 3t²) ignores x: Euler returns x0 + c·Σ_k (1 + 3(k/n)²)/n exactly (the exact ODE gives x0 + 2c).
    g = torch.Generator().manual_seed(4)
    c, x0 = torch.randn(2, 3, generator=g), torch.randn(2, 3, generator=g)
    seen = []

    def field(x, t):
        check_t(x, t)
        seen.append(t.detach().clone())
        return c * (1 + 3 * t[:, None] ** 2)

    n = 5
    got = impl.euler_sample(field, x0, n)
    want = x0.double() + c.double() * sum((1 + 3 * (k / n) ** 2) / n for k in range(n))
    expect(len(seen) == n, f"euler_sample(model, x0, steps={n}) called the model {len(seen)} times; expected {n}.")
    times = [round(s[0].item(), 6) for s in seen]
    expect(times == [k / n for k in range(n)],
           f"euler_sample(steps={n}) evaluated the model at t = {times}; expected {[k / n for k in range(n)]}. "
           + EULER_HINT)
    expect_close(got, want.float(), f"euler_sample(c·(1 + 3t²), x0, steps={n})", atol=1e-5, rtol=1e-5, hint=EULER_HINT)


def test_gaussian_to_gaussian_reaches_the_target_moments(impl):
    # x0 ~ N(0, 1), x1 ~ N(μ, s²) independent: x_t ~ N(tμ, V_t), V_t = (1 − t)² + t²s², and the marginal velocity
    # E[x1 − x0 | x_t = x] = μ + (t·s² − (1 − t))/V_t · (x − tμ) is linear in x. Its ODE carries N(0, 1) to N(μ, s²).
    mu, s, steps = 2.0, 0.5, 100

    def slope(t):
        return (t * s * s - (1 - t)) / ((1 - t) ** 2 + t * t * s * s)

    def field(x, t):
        check_t(x, t)
        tt = t.reshape(-1, 1)
        k = (tt * s * s - (1 - tt)) / ((1 - tt) ** 2 + tt * tt * s * s)
        return mu + k * (x - tt * mu)

    z = torch.randn(4000, 1, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    x0 = ((z - z.mean()) / z.std(unbiased=False)).float()  # sample mean exactly 0, variance exactly 1
    got = impl.euler_sample(field, x0, steps).double()
    a, b = 1.0, 0.0  # Euler's map is affine: x_N = a·x0 + b
    for k in range(steps):
        tk = k / steps
        a, b = a * (1 + slope(tk) / steps), b + (mu + slope(tk) * (b - tk * mu)) / steps
    bias = max(abs(b - mu), abs(a - s))
    mean, std = got.mean().item(), got.std(unbiased=False).item()
    expect(abs(mean - mu) < bias + 1e-3 and abs(std - s) < bias + 1e-3,
           f"euler_sample({steps} steps) of the Gaussian-to-Gaussian field gives mean {mean:.4f} and std {std:.4f}; "
           f"the target is N({mu}, {s}²) up to Euler's bias {bias:.2g}. " + EULER_HINT)
    expect_close(got.float(), (a * x0.double() + b).float(), f"euler_sample({steps} steps), Gaussian-to-Gaussian field",
                 atol=1e-4, rtol=1e-4, hint=EULER_HINT)


def test_does_not_modify_inputs(impl):
    model = Velocity(6, 4)
    x1, x0 = data(6, (3, 4))
    t = torch.tensor([0.1, 0.2, 0.3])
    before = [v.clone() for v in (x1, x0, t)]
    impl.flow_matching_loss(model, x1, x0, t)
    impl.euler_sample(model, x0, 3)
    expect(all(torch.equal(p, q) for p, q in zip(before, (x1, x0, t))),
           "flow_matching_loss or euler_sample modified an input in place; use x = x + dt·v, not x += dt·v on x0.")
    expect(math.isfinite(impl.flow_matching_loss(model, x1, x0, t).item()), "flow_matching_loss is not finite")
