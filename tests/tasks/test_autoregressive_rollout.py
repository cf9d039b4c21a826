"""autoregressive-rollout: feed a one-step predictor its own predictions, sliding a fixed-length window.

Oracles are closed forms: the step functions below continue sinusoids exactly, so the rollout of a correct
implementation reproduces the signal's formula at the future times.
"""
import math

import torch

from genprep.learner.checks import expect, expect_close, expect_tensor, expect_unchanged

HINT = ("After each prediction y (B, F): window = cat([window[:, 1:], y[:, None]], dim=1) — drop the OLDEST "
        "value, append the NEWEST, keep length W; return torch.stack(predictions, dim=1), shape (B, steps, F).")


class Recorder:
    """Wraps a step function and keeps a copy of every window it is given."""

    def __init__(self, fn, shape):
        self.fn, self.shape, self.windows = fn, tuple(shape), []

    def __call__(self, window):
        expect(isinstance(window, torch.Tensor) and tuple(window.shape) == self.shape,
               f"call {len(self.windows) + 1} of step_fn got a window of shape "
               f"{tuple(window.shape) if isinstance(window, torch.Tensor) else type(window).__name__}; every window "
               f"must keep the context's shape {self.shape} — slide it (drop the oldest value), do not grow or "
               "shrink it.")
        self.windows.append(window.detach().clone())
        return self.fn(window)


def check_windows(recorder, signal, W, steps):
    """The window at call k must hold the values at times k .. k+W-1 (observed first, then predicted)."""
    expect(len(recorder.windows) >= steps,
           f"step_fn was called {len(recorder.windows)} times for steps={steps}; call it once per prediction.")
    for k, window in enumerate(recorder.windows[:steps]):
        expect(tuple(window.shape) == (signal.shape[0], W, signal.shape[2]),
               f"call {k + 1} of step_fn got a window of shape {tuple(window.shape)}; every window must keep the "
               f"context's shape {(signal.shape[0], W, signal.shape[2])} — slide it, do not grow or shrink it.")
        expect_close(window, signal[:, k:k + W].to(window.dtype),
                     f"the window passed to step_fn at call {k + 1} (it should hold times {k}..{k + W - 1})",
                     atol=1e-4, hint=HINT)


def two_sines(B, F, T, dtype):
    """x_t = a sin(ω1 t + φ1) + b sin(ω2 t + φ2), different per batch row and feature, t = 0..T-1."""
    g = torch.Generator().manual_seed(0)
    w1 = torch.tensor([0.3, 0.45, 0.2][:F], dtype=torch.float64)  # (F,)
    w2 = torch.tensor([0.7, 1.1, 0.9][:F], dtype=torch.float64)
    a, b = 1 + torch.rand(B, 1, F, generator=g, dtype=torch.float64), torch.rand(B, 1, F, generator=g, dtype=torch.float64)
    p1, p2 = (2 * math.pi * torch.rand(B, 1, F, generator=g, dtype=torch.float64) for _ in range(2))
    t = torch.arange(T, dtype=torch.float64).view(1, T, 1)
    x = a * torch.sin(w1 * t + p1) + b * torch.sin(w2 * t + p2)  # (B, T, F)
    # Characteristic polynomial (z² − 2cos ω1 z + 1)(z² − 2cos ω2 z + 1) gives an exact order-4 recurrence:
    # x_t = s x_{t-1} − q x_{t-2} + s x_{t-3} − x_{t-4}, s = 2(cos ω1 + cos ω2), q = 2 + 4 cos ω1 cos ω2.
    s = 2 * (w1.cos() + w2.cos())
    q = 2 + 4 * w1.cos() * w2.cos()
    coef = torch.stack([-torch.ones_like(s), s, -q, s])  # (4, F): weights of window positions oldest..newest
    return x.to(dtype), coef.to(dtype)


def test_linear_recurrence_continues_two_sines(impl):
    B, W, F, steps = 3, 4, 2, 25
    signal, coef = two_sines(B, F, W + steps, torch.float64)
    context = signal[:, :W].clone()
    step = Recorder(lambda window: (window * coef).sum(dim=1), context.shape)  # (B, W, F) -> (B, F); uses every position
    got = impl.rollout(step, context, steps)
    what = f"rollout(step_fn, context (B={B}, W={W}, F={F}), steps={steps})"
    expect_tensor(got, what, shape=(B, steps, F), dtype=torch.float64)
    check_windows(step, signal, W, steps)
    expect_close(got, signal[:, W:], what + " vs the closed form a·sin(ω1 t + φ1) + b·sin(ω2 t + φ2)",
                 atol=1e-7, hint=HINT)


def test_rotation_uses_both_ends_of_the_window(impl):
    # y_t = r (cos(ωt + φ), sin(ωt + φ)) satisfies y_t = R y_{t-1} = R^W y_{t-W}; the step uses both.
    B, W, F, steps, omega = 3, 5, 2, 12, 0.4
    g = torch.Generator().manual_seed(1)
    r = 0.5 + torch.rand(B, 1, 1, generator=g, dtype=torch.float64)
    phi = 2 * math.pi * torch.rand(B, 1, generator=g, dtype=torch.float64)
    t = torch.arange(W + steps, dtype=torch.float64)
    angle = omega * t + phi  # (B, T)
    signal = (r * torch.stack([angle.cos(), angle.sin()], dim=-1)).float()  # (B, T, 2)

    def rot(theta):
        return torch.tensor([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])

    R1, RW = rot(omega), rot(W * omega)
    context = signal[:, :W].clone()
    step = Recorder(lambda window: 0.5 * (window[:, -1] @ R1.T + window[:, 0] @ RW.T), context.shape)
    got = impl.rollout(step, context, steps)
    what = f"rollout(step_fn, context (B={B}, W={W}, F={F}), steps={steps}) of a rotating 2-D vector"
    expect_tensor(got, what, shape=(B, steps, F), dtype=torch.float32)
    check_windows(step, signal, W, steps)
    expect_close(got, signal[:, W:], what + " vs the closed form r·(cos(ωt+φ), sin(ωt+φ))", atol=1e-4, hint=HINT)


def test_first_prediction_comes_from_the_context_and_context_is_untouched(impl):
    g = torch.Generator().manual_seed(2)
    context = torch.randn(2, 3, 4, generator=g)
    before = context.clone()
    M = torch.randn(4, 4, generator=g)
    step = Recorder(lambda window: torch.tanh(window.mean(dim=1) @ M), context.shape)
    got = impl.rollout(step, context, 1)
    expect_tensor(got, "rollout(step_fn, context (2, 3, 4), steps=1)", shape=(2, 1, 4), dtype=torch.float32)
    expect_close(got[:, 0], torch.tanh(before.mean(dim=1) @ M), "the first prediction", atol=1e-6,
                 hint="The first prediction is step_fn(context).")
    expect_unchanged(before, context, "the context passed to rollout")
    got3 = impl.rollout(Recorder(lambda window: torch.tanh(window.mean(dim=1) @ M), context.shape), context, 3)
    expect_tensor(got3, "rollout(step_fn, context (2, 3, 4), steps=3)", shape=(2, 3, 4), dtype=torch.float32)
    values = list(before.unbind(dim=1))  # the sequence so far, one (B, F) tensor per time step
    for _ in range(3):
        values.append(torch.tanh(torch.stack(values[-3:], dim=1).mean(dim=1) @ M))
    expect_close(got3, torch.stack(values[3:], dim=1), "rollout(step_fn, context (2, 3, 4), steps=3) with a "
                 "non-linear step_fn", atol=1e-5, hint=HINT)
    expect_unchanged(before, context, "the context passed to rollout")
