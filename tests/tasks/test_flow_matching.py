"""flow-matching: the rectified-flow loss on x_t = (1 − t)·x0 + t·x1, and Euler sampling from t = 0 to 1.

Oracles: the loss written out in float64 with the same toy velocity model; velocity fields whose Euler
trajectories are known exactly (the straight path to a point, a time-only field summed by hand, and the linear
field that carries N(0, 1) to N(μ, s²), whose Euler map is an affine recursion computed in float64).
"""
import math

import torch
import torch.nn as nn

from genprep.learner.checks import expect, expect_close, expect_scalar, expect_tensor, say

LOSS_HINT = say(en="x_t = (1 − t)·x0 + t·x1 with t reshaped to (B, 1, ..., 1); target = x1 − x0 (data minus noise); "
                   "loss = ((model(x_t, t) − target)²).mean() over ALL elements, with model called on t of shape (B,).",
                zh="x_t = (1 − t)·x0 + t·x1，t 要 reshape 成 (B, 1, ..., 1)；目标 = x1 − x0（数据减噪声）；"
                   "loss = ((model(x_t, t) − target)²).mean()，对所有元素求均值，调用 model 时 t 的形状为 (B,)。")
EULER_HINT = say(en="x = x0; for k in range(steps): t_k = k/steps as a (B,) tensor; x = x + (1/steps)·model(x, t_k). "
                    "Evaluate at the LEFT end of each step: t = 0, 1/steps, …, (steps − 1)/steps.",
                 zh="x = x0；for k in range(steps)：t_k = k/steps，形状为 (B,) 的张量；x = x + (1/steps)·model(x, t_k)。"
                    "在每一步的左端点求值：t = 0, 1/steps, …, (steps − 1)/steps。")


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
        expect(False, say(en=f"model(x, t) was called with x {tuple(x.shape)} and t {shape}; t must be a (B,) tensor, "
                             "one time per example (torch.full((B,), k/steps) in euler_sample).",
                          zh=f"调用 model(x, t) 时 x 为 {tuple(x.shape)}、t 为 {shape}；t 必须是形状为 (B,) 的张量，"
                             "每个样本一个时间（在 euler_sample 中用 torch.full((B,), k/steps)）。"))


def loss_oracle(model, x1, x0, t):
    tb = t.double().reshape(-1, *([1] * (x1.dim() - 1)))
    x_t = (1 - tb) * x0.double() + tb * x1.double()
    return (model.pure(x_t, t) - (x1.double() - x0.double())).pow(2).mean()


def likely_loss_mistakes(model, x1, x0, t):
    """What the usual flow-matching loss mistakes give (model: a float64 callable), each with its cause."""
    tb = t.double().reshape(-1, *([1] * (x1.dim() - 1)))
    x1, x0 = x1.double(), x0.double()
    x_t = (1 - tb) * x0 + tb * x1
    err = (model(x_t, t) - (x1 - x0)).pow(2)
    return ((err.flatten(1).sum(1).mean().float(),
             say(en="the squared error summed over the features and averaged over the batch only; take the mean over "
                    "ALL elements.",
                 zh="平方误差对特征求和、只对 batch 求了均值；应对所有元素求均值。")),
            ((model(x_t, t) - (x0 - x1)).pow(2).mean().float(),
             say(en="the target x0 − x1 (noise minus data); the velocity target is x1 − x0, towards the data.",
                 zh="目标用了 x0 − x1（噪声减数据）；速度的目标是 x1 − x0，指向数据。")),
            ((model(tb * x0 + (1 - tb) * x1, t) - (x1 - x0)).pow(2).mean().float(),
             say(en="the reversed path t·x0 + (1 − t)·x1; here t = 0 is the noise x0 and t = 1 the data: "
                    "x_t = (1 − t)·x0 + t·x1.",
                 zh="路径反了（t·x0 + (1 − t)·x1）；这里 t = 0 是噪声 x0，t = 1 是数据：x_t = (1 − t)·x0 + t·x1。")))


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
    expect_scalar(got, 0.0, say(en="flow_matching_loss with the exact velocity (x1 − x_t)/(1 − t) towards each x1",
                                zh="使用指向各 x1 的精确速度 (x1 − x_t)/(1 − t) 时的 flow_matching_loss"),
                  atol=1e-5 * scale, rtol=0,
                  hint=say(en=f"This model returns x1 − x0 exactly on the right path, so the loss must be 0 "
                              f"(mean((x1 − x0)²) = {scale:.3f} for scale). About 4× that means the target has the "
                              "wrong sign (x0 − x1 instead of x1 − x0); another non-zero value means x_t is not "
                              "(1 − t)·x0 + t·x1 (t = 0 is the noise, t = 1 the data). " + LOSS_HINT.en,
                           zh=f"在正确的路径上这个模型恰好返回 x1 − x0，所以损失必须为 0（作为量级参考，"
                              f"mean((x1 − x0)²) = {scale:.3f}）。约为它的 4 倍说明目标的符号反了（x0 − x1 而不是 "
                              "x1 − x0）；其他非零值说明 x_t 不是 (1 − t)·x0 + t·x1（t = 0 是噪声，t = 1 是数据）。"
                              + LOSS_HINT.zh),
                  likely=likely_loss_mistakes(to_x1, x1, x0, t))


def test_loss_matches_the_oracle_with_given_x0_and_t(impl):
    model = Velocity(0, 6)
    x1, x0 = data(0, (4, 2, 3))
    t = torch.tensor([0.1, 0.55, 0.9, 0.3])
    what = "flow_matching_loss(model, x1 (4, 2, 3), x0, t = [0.1, 0.55, 0.9, 0.3])"
    got = impl.flow_matching_loss(model, x1, x0, t)
    expect_scalar(got, loss_oracle(model, x1, x0, t).float(), what, atol=1e-5, rtol=1e-4,
                  hint=say(en=LOSS_HINT.en + " If yours is 6× too large you summed over the features: take the mean "
                                             "over all elements. A sign error in the target or swapping x0 and x1 in "
                                             "x_t also lands here.",
                           zh=LOSS_HINT.zh + "如果你的结果大了 6 倍，说明对特征求了和：应对所有元素求均值。目标的符号"
                                             "错误或在 x_t 中把 x0 与 x1 对调也会出现在这里。"),
                  likely=likely_loss_mistakes(model.pure, x1, x0, t))


def test_t_is_broadcast_per_example(impl):
    # B = D = 3: broadcasting t along the LAST dim instead of the batch dim runs without error but is wrong.
    model = Velocity(1, 3)
    x1, x0 = data(1, (3, 3))
    t = torch.tensor([0.2, 0.5, 0.85])
    impl.flow_matching_loss(model, x1, x0, t)
    expect(len(model.calls) == 1, say(en=f"flow_matching_loss called the model {len(model.calls)} times; call it once.",
                                      zh=f"flow_matching_loss 调用了 model {len(model.calls)} 次；只应调用一次。"))
    x_t, t_seen = model.calls[0]
    expect_close(t_seen, t, say(en="the t passed to model(x_t, t)", zh="传给 model(x_t, t) 的 t"), atol=0,
                 hint=say(en="Pass the per-example times unchanged, shape (B,); reshape only for the interpolation.",
                          zh="原样传入每个样本的时间，形状为 (B,)；只在插值时 reshape。"))
    expect_close(x_t, (1 - t[:, None]) * x0 + t[:, None] * x1, say(en="the x_t passed to the model", zh="传给 model 的 x_t"),
                 atol=1e-6,
                 hint=say(en="x_t[i] = (1 − t[i])·x0[i] + t[i]·x1[i]: reshape t to (B, 1, ..., 1) so that each example "
                             "uses its own t; t = 0 is the noise x0 and t = 1 the data x1.",
                          zh="x_t[i] = (1 − t[i])·x0[i] + t[i]·x1[i]：把 t reshape 成 (B, 1, ..., 1)，让每个样本使用"
                             "自己的 t；t = 0 是噪声 x0，t = 1 是数据 x1。"),
                 likely=((t[:, None] * x0 + (1 - t[:, None]) * x1,
                          say(en="the reversed path t·x0 + (1 − t)·x1; t = 0 is the noise x0 here.",
                              zh="路径反了（t·x0 + (1 − t)·x1）；这里 t = 0 是噪声 x0。")),
                         ((1 - t[None, :]) * x0 + t[None, :] * x1,
                          say(en="t broadcast along the last (feature) dim instead of the batch dim; reshape it to "
                                 "(B, 1, ..., 1).",
                              zh="t 沿最后一维（特征维）广播了，而不是沿 batch 维；要 reshape 成 (B, 1, ..., 1)。"))))


def test_draws_noise_and_times_when_not_given(impl):
    torch.manual_seed(0)
    B = 4000
    seen = []

    def zero_model(x, t):
        seen.append(t.detach().clone())
        check_t(x, t)
        return torch.zeros_like(x)

    loss = impl.flow_matching_loss(zero_model, torch.zeros(B, 4))
    expect_scalar(loss, 1.0, say(en="flow_matching_loss(zero model, x1 = 0, 4000×4) with its own x0",
                                 zh="自己抽取 x0 时的 flow_matching_loss(零模型, x1 = 0, 4000×4)"), atol=0.06, rtol=0,
                  hint=say(en="With x1 = 0 and a zero model the loss is mean(x0²), which is 1 for x0 ~ N(0, I): draw "
                              "x0 with torch.randn_like(x1) (not torch.rand).",
                           zh="x1 = 0 且模型为零时损失是 mean(x0²)，对 x0 ~ N(0, I) 它等于 1：用 torch.randn_like(x1) "
                              "抽取 x0（不是 torch.rand）。"))
    t = seen[0].double()
    expect(tuple(t.shape) == (B,), say(en=f"model got t of shape {tuple(t.shape)}, expected ({B},)",
                                       zh=f"model 收到的 t 形状为 {tuple(t.shape)}，应为 ({B},)"))
    lo, hi, mean, var = t.min().item(), t.max().item(), t.mean().item(), t.var().item()
    cause = (say(en=" All examples got the same t: draw one time per example.", zh="所有样本的 t 都相同：要为每个样本各抽一个时间。")
             if bool((t == t[0]).all()) else say(en="", zh=""))
    expect(bool((t >= 0).all() and (t <= 1).all()) and abs(t.mean().item() - 0.5) < 0.03
           and abs(t.var().item() - 1 / 12) < 0.01,
           say(en=f"the drawn times have min {lo:.3f}, max {hi:.3f}, mean {mean:.3f} and variance {var:.4f}; one t "
                  "per example from U(0, 1) has mean 0.5 and variance 1/12 ≈ 0.0833 — draw torch.rand(B), not one t "
                  f"for the whole batch.{cause.en}",
               zh=f"抽取的时间最小值 {lo:.3f}、最大值 {hi:.3f}、均值 {mean:.3f}、方差 {var:.4f}；每个样本从 U(0, 1) "
                  "抽一个 t 时，均值为 0.5、方差为 1/12 ≈ 0.0833——要用 torch.rand(B)，不能整个 batch 只抽一个 t。"
                  f"{cause.zh}"))


def test_loss_gradient_reaches_the_model(impl):
    torch.manual_seed(1)
    net = nn.Linear(3, 3)

    def model(x, t):
        return net(x) + t[:, None]

    x1, x0 = data(2, (5, 3))
    loss = impl.flow_matching_loss(model, x1, x0, torch.full((5,), 0.5))
    expect(isinstance(loss, torch.Tensor) and loss.requires_grad,
           say(en="flow_matching_loss must stay differentiable w.r.t. the model's parameters (no torch.no_grad, no "
                  ".item()).",
               zh="flow_matching_loss 必须对模型参数保持可微（不要用 torch.no_grad，也不要 .item()）。"))
    loss.backward()
    expect(net.weight.grad is not None and net.weight.grad.abs().sum() > 0,
           say(en="backward() from flow_matching_loss did not reach the model's parameters.",
               zh="从 flow_matching_loss 做 backward() 没有传到模型参数。"))


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
        expect_close(got, x1, say(en=f"euler_sample with the exact straight-path velocity, steps={steps}",
                                  zh=f"使用精确直线路径速度时的 euler_sample，steps={steps}"), atol=1e-5,
                     rtol=1e-5,
                     hint=say(en="A straight path is integrated exactly by Euler's method. inf or nan here means the "
                                 "model was evaluated at t = 1: use the LEFT end t_k = k/steps. " + EULER_HINT.en,
                              zh="欧拉法能精确积分直线路径。这里出现 inf 或 nan 说明在 t = 1 处调用了模型：应使用左端点 "
                                 "t_k = k/steps。" + EULER_HINT.zh))


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
    expect(len(seen) == n, say(en=f"euler_sample(model, x0, steps={n}) called the model {len(seen)} times; expected {n}.",
                               zh=f"euler_sample(model, x0, steps={n}) 调用了 model {len(seen)} 次；应为 {n} 次。"))
    times = [round(s[0].item(), 6) for s in seen]
    left = [k / n for k in range(n)]
    if times == [(k + 1) / n for k in range(n)]:
        cause = say(en=" These are the RIGHT ends of the steps.", zh="这些是每一步的右端点。")
    elif times == [round(k / (n - 1), 6) for k in range(n)]:
        cause = say(en=" These come from torch.linspace(0, 1, steps), spaced 1/(steps − 1) while the step is 1/steps.",
                    zh="这些来自 torch.linspace(0, 1, steps)，间距为 1/(steps − 1)，而步长是 1/steps。")
    else:
        cause = say(en="", zh="")
    expect(times == left,
           say(en=f"euler_sample(steps={n}) evaluated the model at t = {times}; expected {left}.{cause.en} " + EULER_HINT.en,
               zh=f"euler_sample(steps={n}) 在 t = {times} 处调用了模型；应为 {left}。{cause.zh}" + EULER_HINT.zh))
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
           say(en=f"euler_sample({steps} steps) of the Gaussian-to-Gaussian field gives mean {mean:.4f} and std "
                  f"{std:.4f}; the target is N({mu}, {s}²) up to Euler's bias {bias:.2g}. " + EULER_HINT.en,
               zh=f"对高斯到高斯的速度场做 euler_sample（{steps} 步）得到均值 {mean:.4f}、标准差 {std:.4f}；"
                  f"目标是 N({mu}, {s}²)，允许欧拉法的偏差 {bias:.2g}。" + EULER_HINT.zh))
    expect_close(got.float(), (a * x0.double() + b).float(),
                 say(en=f"euler_sample({steps} steps), Gaussian-to-Gaussian field",
                     zh=f"高斯到高斯速度场上的 euler_sample（{steps} 步）"),
                 atol=1e-4, rtol=1e-4, hint=EULER_HINT)


def test_does_not_modify_inputs(impl):
    model = Velocity(6, 4)
    x1, x0 = data(6, (3, 4))
    t = torch.tensor([0.1, 0.2, 0.3])
    before = [v.clone() for v in (x1, x0, t)]
    impl.flow_matching_loss(model, x1, x0, t)
    impl.euler_sample(model, x0, 3)
    expect(all(torch.equal(p, q) for p, q in zip(before, (x1, x0, t))),
           say(en="flow_matching_loss or euler_sample modified an input in place; use x = x + dt·v, not x += dt·v on x0.",
               zh="flow_matching_loss 或 euler_sample 原地修改了输入；要写 x = x + dt·v，不要对 x0 做 x += dt·v。"))
    expect(math.isfinite(impl.flow_matching_loss(model, x1, x0, t).item()),
           say(en="flow_matching_loss is not finite", zh="flow_matching_loss 不是有限值"))
