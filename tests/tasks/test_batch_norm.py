"""batch-norm: BatchNorm1d on (B, C) — batch statistics in training, running statistics in eval, against nn.BatchNorm1d."""
import torch
import torch.nn as nn

from genprep.learner.checks import expect, expect_close, expect_tensor, say

HINT = say(en="Training: μ = x.mean(0), σ² = x.var(0, unbiased=False); y = weight·(x − μ)/√(σ² + eps) + bias. "
              "Running stats (under torch.no_grad()): r ← (1 − momentum)·r + momentum·batch_stat, with the UNBIASED "
              "variance (× B/(B − 1)). Eval: the same formula with running_mean and running_var.",
           zh="训练时：μ = x.mean(0)，σ² = x.var(0, unbiased=False)；y = weight·(x − μ)/√(σ² + eps) + bias。"
              "运行统计量（在 torch.no_grad() 下更新）：r ← (1 − momentum)·r + momentum·batch_stat，方差用无偏估计"
              "（× B/(B − 1)）。评估时：同一公式，改用 running_mean 和 running_var。")


def likely_output_mistakes(ref, x):
    """What the usual normalization mistakes give on x for the oracle's weight, bias, eps and running stats."""
    x = x.double()
    w, b, eps = ref.weight.detach(), ref.bias.detach(), ref.eps
    mu, biased, unbiased = x.mean(0), x.var(0, unbiased=False), x.var(0, unbiased=True)
    if ref.training:
        return (((x - mu) / (unbiased + eps).sqrt() * w + b,
                 say(en="normalizing with the UNBIASED batch variance x.var(0); normalize with the biased one, "
                        "x.var(0, unbiased=False) (divide by B).",
                     zh="用无偏的 batch 方差 x.var(0) 做归一化；归一化要用有偏方差 x.var(0, unbiased=False)（除以 B）。")),)
    return (((x - mu) / (biased + eps).sqrt() * w + b,
             say(en="eval normalizes with the batch's own statistics; in eval mode use running_mean and running_var "
                    "(branch on self.training).",
                 zh="评估模式下仍用 batch 自己的统计量归一化；评估模式应使用 running_mean 和 running_var"
                    "（根据 self.training 分支）。")),
            ((x - ref.running_mean) / ref.running_var.sqrt() * w + b,
             say(en="eval divides by √running_var without eps; use √(running_var + eps) as in training.",
                 zh="评估时除以 √running_var，漏了 eps；应与训练时一样用 √(running_var + eps)。")))


def likely_running_mistakes(before, x, momentum):
    """(mean pairs, var pairs): what the usual running-statistics mistakes give from the stats before the step."""
    x = x.double()
    mean0, var0 = before
    keras = say(en="the Keras convention r ← momentum·r + (1 − momentum)·batch; in PyTorch momentum weighs the NEW "
                   "batch: r ← (1 − momentum)·r + momentum·batch.",
                zh="用了 Keras 的约定 r ← momentum·r + (1 − momentum)·batch；PyTorch 中 momentum 是新 batch 的权重："
                   "r ← (1 − momentum)·r + momentum·batch。")
    biased, unbiased = x.var(0, unbiased=False), x.var(0, unbiased=True)
    return (((momentum * mean0 + (1 - momentum) * x.mean(0), keras),),
            ((momentum * var0 + (1 - momentum) * unbiased, keras),
             ((1 - momentum) * var0 + momentum * biased,
              say(en="running_var updated with the biased batch variance; it keeps the UNBIASED one (× B/(B − 1)).",
                  zh="running_var 用有偏的 batch 方差更新了；应使用无偏方差（× B/(B − 1)）。"))))


def make(impl, c, seed, **kw):
    """The module under test and an nn.BatchNorm1d oracle in float64 with the same random weight and bias."""
    mine = impl.BatchNorm1d(c, **kw)
    ref = nn.BatchNorm1d(c, **kw).double()
    g = torch.Generator().manual_seed(seed)
    w, b = 1 + 0.5 * torch.randn(c, generator=g), 0.5 * torch.randn(c, generator=g)
    with torch.no_grad():
        mine.weight.copy_(w)
        mine.bias.copy_(b)
        ref.weight.copy_(w.double())
        ref.bias.copy_(b.double())
    return mine, ref


def batches(seed, n, b, c):
    g = torch.Generator().manual_seed(seed)
    return [3 * torch.randn(b, c, generator=g) + torch.randn(c, generator=g) * 4 for _ in range(n)]


def compare_step(mine, ref, x, what, check_grads=True):
    xm = x.clone().requires_grad_(True)
    xr = x.double().clone().requires_grad_(True)
    out = mine(xm)
    want = ref(xr)
    expect_tensor(out, what, shape=x.shape, dtype=torch.float32)
    expect_close(out, want.detach().float(), say(en=f"{what.en}: output", zh=f"{what.zh}：输出"), atol=1e-5, rtol=1e-5,
                 hint=HINT, likely=likely_output_mistakes(ref, x))
    if check_grads:
        up = torch.randn(x.shape, generator=torch.Generator().manual_seed(99))
        for p in (*mine.parameters(), *ref.parameters()):
            p.grad = None
        (out * up).sum().backward()
        (want * up.double()).sum().backward()
        expect(xm.grad is not None,
               say(en=f"{what.en}: no gradient reached the input — build the output from x with torch ops.",
                   zh=f"{what.zh}：没有梯度传到输入——输出要用 torch 运算从 x 构造。"))
        expect_close(xm.grad, xr.grad.float(), say(en=f"{what.en}: gradient w.r.t. x", zh=f"{what.zh}：对 x 的梯度"),
                     atol=1e-5, rtol=1e-4,
                     hint=say(en="In training the batch mean and variance depend on x, and the gradient must flow "
                                 "through them: do not .detach() μ or σ² or compute them under torch.no_grad().",
                              zh="训练时 batch 的均值和方差依赖于 x，梯度必须经过它们回传：不要对 μ 或 σ² 调用 "
                                 ".detach()，也不要在 torch.no_grad() 下计算它们。"))
        expect_close(mine.weight.grad, ref.weight.grad.float(),
                     say(en=f"{what.en}: gradient w.r.t. weight", zh=f"{what.zh}：对 weight 的梯度"), atol=1e-5,
                     rtol=1e-5, hint=say(en="weight must be the nn.Parameter that multiplies the normalized x.",
                                         zh="weight 必须是乘在归一化后的 x 上的那个 nn.Parameter。"))
        expect_close(mine.bias.grad, ref.bias.grad.float(),
                     say(en=f"{what.en}: gradient w.r.t. bias", zh=f"{what.zh}：对 bias 的梯度"), atol=1e-5, rtol=1e-5,
                     hint=say(en="bias must be the nn.Parameter added at the end.",
                              zh="bias 必须是最后加上的那个 nn.Parameter。"))


def compare_running(mine, ref, what, before=None, x=None):
    """`before`: the oracle's (running_mean, running_var) before the step on x, to name the usual mistakes."""
    likely_mean, likely_var = likely_running_mistakes(before, x, ref.momentum) if before is not None else ((), ())
    expect_close(mine.running_mean, ref.running_mean.float(), say(en=f"{what.en}: running_mean", zh=f"{what.zh}：running_mean"),
                 atol=1e-5, rtol=1e-5,
                 hint=say(en="running_mean ← (1 − momentum)·running_mean + momentum·batch_mean (PyTorch's convention: "
                             "momentum weighs the NEW batch, unlike Keras).",
                          zh="running_mean ← (1 − momentum)·running_mean + momentum·batch_mean（PyTorch 的约定："
                             "momentum 是新 batch 的权重，与 Keras 相反）。"),
                 likely=likely_mean)
    expect_close(mine.running_var, ref.running_var.float(), say(en=f"{what.en}: running_var", zh=f"{what.zh}：running_var"),
                 atol=1e-5, rtol=1e-5,
                 hint=say(en="running_var ← (1 − momentum)·running_var + momentum·σ²_unbiased — the running variance "
                             "uses the UNBIASED batch variance (divide by B − 1), while the normalization uses the "
                             "biased one.",
                          zh="running_var ← (1 − momentum)·running_var + momentum·σ²_unbiased——运行方差用无偏的 batch "
                             "方差（除以 B − 1），而归一化用有偏方差。"),
                 likely=likely_var)


def stats(ref):
    return ref.running_mean.clone(), ref.running_var.clone()


def test_parameters_buffers_and_initial_values(impl):
    m = impl.BatchNorm1d(4)
    expect(isinstance(m, nn.Module),
           say(en="BatchNorm1d must be an nn.Module (subclass nn.Module, call super().__init__()).",
               zh="BatchNorm1d 必须是 nn.Module（继承 nn.Module，并调用 super().__init__()）。"))
    params, buffers = dict(m.named_parameters()), dict(m.named_buffers())
    for name, value in (("weight", 1.0), ("bias", 0.0)):
        expect(name in params, say(en=f"BatchNorm1d(4) needs an nn.Parameter named `{name}`; parameters found: "
                                      f"{list(params)}",
                                   zh=f"BatchNorm1d(4) 需要一个名为 `{name}` 的 nn.Parameter；找到的参数：{list(params)}"))
        expect_close(params[name].detach(), torch.full((4,), value),
                     say(en=f"BatchNorm1d(4).{name} at initialization", zh=f"初始化时的 BatchNorm1d(4).{name}"),
                     atol=0.0, hint=say(en="weight starts at 1 and bias at 0, so the layer starts as a pure "
                                           "standardization.",
                                        zh="weight 初始为 1，bias 初始为 0，这样层一开始就是纯粹的标准化。"))
    for name, value in (("running_mean", 0.0), ("running_var", 1.0)):
        expect(name in buffers,
               say(en=f"BatchNorm1d(4) needs a buffer `{name}` registered with self.register_buffer(...) "
                      f"(so it is saved in state_dict and moved by .to()); buffers found: {list(buffers)}",
                   zh=f"BatchNorm1d(4) 需要用 self.register_buffer(...) 注册的缓冲区 `{name}`"
                      f"（这样它会保存在 state_dict 中，并随 .to() 移动）；找到的缓冲区：{list(buffers)}"))
        expect_close(buffers[name], torch.full((4,), value),
                     say(en=f"BatchNorm1d(4).{name} at initialization", zh=f"初始化时的 BatchNorm1d(4).{name}"), atol=0.0,
                     hint=say(en="running_mean starts at 0 and running_var at 1.",
                              zh="running_mean 初始为 0，running_var 初始为 1。"))


def test_training_steps_match_pytorch(impl):
    mine, ref = make(impl, 3, seed=0)
    for k, x in enumerate(batches(1, 4, b=6, c=3)):
        before = stats(ref)
        compare_step(mine, ref, x, say(en=f"training step {k + 1} of BatchNorm1d(3) on a (6, 3) batch",
                                       zh=f"BatchNorm1d(3) 在 (6, 3) batch 上的第 {k + 1} 个训练步"))
        compare_running(mine, ref, say(en=f"after training step {k + 1}", zh=f"第 {k + 1} 个训练步之后"), before, x)


def test_eval_uses_running_statistics(impl):
    mine, ref = make(impl, 4, seed=2)
    for x in batches(3, 3, b=5, c=4):
        before = stats(ref)
        mine(x)
        ref(x.double())
        # eval normalizes with the running statistics: name a wrong update before blaming the eval forward
        compare_running(mine, ref, say(en="after a training step", zh="一个训练步之后"), before, x)
    mine.eval()
    ref.eval()
    x = 2 * torch.randn(7, 4, generator=torch.Generator().manual_seed(4)) - 3
    compare_step(mine, ref, x, say(en="eval forward of BatchNorm1d(4) after 3 training steps",
                                   zh="3 个训练步之后 BatchNorm1d(4) 的评估模式前向"))
    single = mine(x[:1])
    expect_close(single, ref(x[:1].double()).detach().float(),
                 say(en="eval forward on a batch of ONE example", zh="只有一个样本的 batch 上的评估模式前向"), atol=1e-5,
                 rtol=1e-5, hint=say(en="In eval mode normalize with running_mean and running_var, not with the "
                                        "batch's own statistics (a batch of one has none); switch on self.training.",
                                     zh="评估模式下用 running_mean 和 running_var 归一化，不要用 batch 自己的统计量"
                                        "（只有一个样本的 batch 没有统计量可言）；根据 self.training 切换。"))
    compare_running(mine, ref, say(en="after an eval forward (eval must not update the running statistics)",
                                   zh="评估模式前向之后（评估模式不得更新运行统计量）"))


def test_running_variance_is_unbiased(impl):
    # B = 2: the unbiased variance is twice the biased one.
    mine, ref = make(impl, 2, seed=5, momentum=0.5)
    x = torch.tensor([[1.0, -2.0], [3.0, 4.0]])
    before = stats(ref)
    mine(x)
    ref(x.double())
    compare_running(mine, ref, say(en="BatchNorm1d(2, momentum=0.5) after one step on a batch of 2",
                                   zh="在 2 个样本的 batch 上走一步之后的 BatchNorm1d(2, momentum=0.5)"), before, x)


def test_custom_momentum_and_eps(impl):
    mine, ref = make(impl, 3, seed=6, momentum=0.3, eps=0.1)
    g = torch.Generator().manual_seed(7)
    for k in range(3):
        x = 0.2 * torch.randn(5, 3, generator=g) + 1.0  # variance ~0.04, so eps = 0.1 matters
        before = stats(ref)
        compare_step(mine, ref, x, say(en=f"training step {k + 1} of BatchNorm1d(3, eps=0.1, momentum=0.3)",
                                       zh=f"BatchNorm1d(3, eps=0.1, momentum=0.3) 的第 {k + 1} 个训练步"),
                     check_grads=False)
        compare_running(mine, ref, say(en=f"after step {k + 1} with momentum=0.3", zh=f"momentum=0.3 时第 {k + 1} 步之后"),
                        before, x)
    mine.eval()
    ref.eval()
    x = 0.2 * torch.randn(4, 3, generator=g) + 1.0  # running_var ~0.3 after 3 steps, so eps = 0.1 matters here too
    expect_close(mine(x), ref(x.double()).detach().float(),
                 say(en="eval forward of BatchNorm1d(3, eps=0.1, momentum=0.3)",
                     zh="BatchNorm1d(3, eps=0.1, momentum=0.3) 的评估模式前向"),
                 atol=1e-5, rtol=1e-5,
                 hint=say(en="Eval is the training formula with the running statistics: (x − running_mean) / "
                             "√(running_var + eps) · weight + bias — eps stays inside the root in eval too.",
                          zh="评估模式就是把训练公式换成运行统计量：(x − running_mean) / √(running_var + eps) · weight + "
                             "bias——评估时 eps 也要留在根号里。"),
                 likely=likely_output_mistakes(ref, x))


def test_running_statistics_carry_no_graph(impl):
    mine, _ = make(impl, 3, seed=8)
    g = torch.Generator().manual_seed(9)
    x = torch.randn(4, 3, generator=g, requires_grad=True)
    mine(x).sum().backward()
    for name in ("running_mean", "running_var"):
        t = getattr(mine, name)
        expect(t.grad_fn is None and not t.requires_grad,
               say(en=f"after a training forward, {name} is part of the autograd graph (grad_fn={t.grad_fn}) — update "
                      "the running statistics under torch.no_grad() (or from detached batch statistics), or every step "
                      "keeps the previous step's graph alive and eval-mode backward fails.",
                   zh=f"训练模式前向之后，{name} 成了 autograd 计算图的一部分（grad_fn={t.grad_fn}）——要在 "
                      "torch.no_grad() 下（或用 detach 过的 batch 统计量）更新运行统计量，否则每一步都会让上一步的"
                      "计算图继续存活，评估模式下的 backward 也会失败。"))
    mine.eval()
    out = mine(torch.randn(2, 3, generator=g, requires_grad=True))
    out.sum().backward()  # must not raise
