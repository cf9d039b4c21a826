"""autoregressive-rollout: feed a one-step predictor its own predictions, sliding a fixed-length window.

Oracles are closed forms: the step functions below continue sinusoids exactly, so the rollout of a correct
implementation reproduces the signal's formula at the future times.
"""
import math

import torch

from genprep.learner.checks import expect, expect_close, expect_tensor, expect_unchanged, say

HINT = say(en="After each prediction y (B, F): window = cat([window[:, 1:], y[:, None]], dim=1) — drop the OLDEST "
              "value, append the NEWEST, keep length W; return torch.stack(predictions, dim=1), shape (B, steps, F).",
           zh="每得到一个预测 y (B, F)：window = cat([window[:, 1:], y[:, None]], dim=1)——丢掉最旧的值，追加最新的值，"
              "长度保持为 W；返回 torch.stack(predictions, dim=1)，形状为 (B, steps, F)。")


def likely_window_mistakes(signal, W, k):
    """What the usual sliding mistakes put in the window at call k + 1 (0-based k), each with its cause."""
    pairs = [(signal[:, :W],
              say(en="the window was never slid: every step predicts from the original context; after each "
                     "prediction drop the oldest value and append the new one.",
                  zh="窗口从未滑动：每一步都用原始上下文做预测；每次预测后要丢掉最旧的值并追加新的预测。"))]
    if k == 1:  # the first prediction is still right, so the second window shows where it was written
        wrong_end = torch.roll(signal[:, :W], shifts=-1, dims=1)
        wrong_end[:, 0] = signal[:, W]
        pairs.append((wrong_end,
                      say(en="the prediction written into the first slot of the rolled window; append it at the end "
                             "(window[:, -1]) so the window stays in time order.",
                          zh="预测被写进了滚动后窗口的第一个位置；应追加在末尾（window[:, -1]），让窗口保持时间顺序。")))
    return tuple(pairs)


def likely_stack_mistakes(want):
    """What stacking the predictions the wrong way gives (want: the right (B, steps, F) result)."""
    B, steps, F = want.shape
    return ((want.transpose(0, 1).reshape(B, steps, F),
             say(en="the predictions concatenated along dim 0, (steps·B, F), then reshaped to (B, steps, F), which "
                    "mixes batch rows and time steps; use torch.stack(predictions, dim=1).",
                 zh="预测沿 dim 0 拼接成 (steps·B, F) 再 reshape 成 (B, steps, F)，把 batch 行和时间步混在了一起；"
                    "应使用 torch.stack(predictions, dim=1)。")),)


class Recorder:
    """Wraps a step function and keeps a copy of every window it is given."""

    def __init__(self, fn, shape):
        self.fn, self.shape, self.windows = fn, tuple(shape), []

    def __call__(self, window):
        got = tuple(window.shape) if isinstance(window, torch.Tensor) else type(window).__name__
        expect(isinstance(window, torch.Tensor) and tuple(window.shape) == self.shape,
               say(en=f"call {len(self.windows) + 1} of step_fn got a window of shape {got}; every window must keep "
                      f"the context's shape {self.shape} — slide it (drop the oldest value), do not grow or shrink it.",
                   zh=f"第 {len(self.windows) + 1} 次调用 step_fn 时窗口的形状是 {got}；每个窗口都必须保持上下文的形状 "
                      f"{self.shape}——要滑动它（丢掉最旧的值），不能让它变长或变短。"))
        self.windows.append(window.detach().clone())
        return self.fn(window)


def check_windows(recorder, signal, W, steps):
    """The window at call k must hold the values at times k .. k+W-1 (observed first, then predicted)."""
    expect(len(recorder.windows) >= steps,
           say(en=f"step_fn was called {len(recorder.windows)} times for steps={steps}; call it once per prediction.",
               zh=f"steps={steps} 时 step_fn 被调用了 {len(recorder.windows)} 次；每个预测应调用一次。"))
    for k, window in enumerate(recorder.windows[:steps]):
        shape = (signal.shape[0], W, signal.shape[2])
        expect(tuple(window.shape) == shape,
               say(en=f"call {k + 1} of step_fn got a window of shape {tuple(window.shape)}; every window must keep the "
                      f"context's shape {shape} — slide it, do not grow or shrink it.",
                   zh=f"第 {k + 1} 次调用 step_fn 时窗口的形状是 {tuple(window.shape)}；每个窗口都必须保持上下文的形状 "
                      f"{shape}——要滑动它，不能让它变长或变短。"))
        expect_close(window, signal[:, k:k + W].to(window.dtype),
                     say(en=f"the window passed to step_fn at call {k + 1} (it should hold times {k}..{k + W - 1})",
                         zh=f"第 {k + 1} 次调用时传给 step_fn 的窗口（应包含时刻 {k}..{k + W - 1}）"),
                     atol=1e-4, hint=HINT,
                     likely=tuple((r.to(window.dtype), c) for r, c in likely_window_mistakes(signal, W, k)))


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
    expect_close(got, signal[:, W:], say(en=what + " vs the closed form a·sin(ω1 t + φ1) + b·sin(ω2 t + φ2)",
                                         zh=what + " 与闭式解 a·sin(ω1 t + φ1) + b·sin(ω2 t + φ2) 的比较"),
                 atol=1e-7, hint=HINT, likely=likely_stack_mistakes(signal[:, W:]))


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
    call = f"rollout(step_fn, context (B={B}, W={W}, F={F}), steps={steps})"
    what = say(en=f"{call} of a rotating 2-D vector", zh=f"旋转二维向量的 {call}")
    expect_tensor(got, what, shape=(B, steps, F), dtype=torch.float32)
    check_windows(step, signal, W, steps)
    expect_close(got, signal[:, W:], say(en=what.en + " vs the closed form r·(cos(ωt+φ), sin(ωt+φ))",
                                         zh=what.zh + " 与闭式解 r·(cos(ωt+φ), sin(ωt+φ)) 的比较"), atol=1e-4, hint=HINT,
                 likely=likely_stack_mistakes(signal[:, W:]))


def test_first_prediction_comes_from_the_context_and_context_is_untouched(impl):
    g = torch.Generator().manual_seed(2)
    context = torch.randn(2, 3, 4, generator=g)
    before = context.clone()
    M = torch.randn(4, 4, generator=g)
    step = Recorder(lambda window: torch.tanh(window.mean(dim=1) @ M), context.shape)
    got = impl.rollout(step, context, 1)
    expect_tensor(got, "rollout(step_fn, context (2, 3, 4), steps=1)", shape=(2, 1, 4), dtype=torch.float32)
    expect_close(got[:, 0], torch.tanh(before.mean(dim=1) @ M), say(en="the first prediction", zh="第一个预测"),
                 atol=1e-6, hint=say(en="The first prediction is step_fn(context).",
                                     zh="第一个预测就是 step_fn(context)。"))
    expect_unchanged(before, context, say(en="the context passed to rollout", zh="传给 rollout 的上下文"))
    got3 = impl.rollout(Recorder(lambda window: torch.tanh(window.mean(dim=1) @ M), context.shape), context, 3)
    expect_tensor(got3, "rollout(step_fn, context (2, 3, 4), steps=3)", shape=(2, 3, 4), dtype=torch.float32)
    values = list(before.unbind(dim=1))  # the sequence so far, one (B, F) tensor per time step
    for _ in range(3):
        values.append(torch.tanh(torch.stack(values[-3:], dim=1).mean(dim=1) @ M))
    want = torch.stack(values[3:], dim=1)
    expect_close(got3, want, say(en="rollout(step_fn, context (2, 3, 4), steps=3) with a non-linear step_fn",
                                 zh="非线性 step_fn 下的 rollout(step_fn, context (2, 3, 4), steps=3)"),
                 atol=1e-5, hint=HINT, likely=likely_stack_mistakes(want))
    expect_unchanged(before, context, say(en="the context passed to rollout", zh="传给 rollout 的上下文"))
