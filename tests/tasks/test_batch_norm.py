"""batch-norm: BatchNorm1d on (B, C) — batch statistics in training, running statistics in eval, against nn.BatchNorm1d."""
import torch
import torch.nn as nn

from genprep.learner.checks import expect, expect_close, expect_tensor

HINT = ("Training: μ = x.mean(0), σ² = x.var(0, unbiased=False); y = weight·(x − μ)/√(σ² + eps) + bias. Running "
        "stats (under torch.no_grad()): r ← (1 − momentum)·r + momentum·batch_stat, with the UNBIASED variance "
        "(× B/(B − 1)). Eval: the same formula with running_mean and running_var.")


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
    expect_close(out, want.detach().float(), f"{what}: output", atol=1e-5, rtol=1e-5, hint=HINT)
    if check_grads:
        up = torch.randn(x.shape, generator=torch.Generator().manual_seed(99))
        for p in (*mine.parameters(), *ref.parameters()):
            p.grad = None
        (out * up).sum().backward()
        (want * up.double()).sum().backward()
        expect(xm.grad is not None, f"{what}: no gradient reached the input — build the output from x with torch ops.")
        expect_close(xm.grad, xr.grad.float(), f"{what}: gradient w.r.t. x", atol=1e-5, rtol=1e-4,
                     hint="In training the batch mean and variance depend on x, and the gradient must flow through "
                          "them: do not .detach() μ or σ² or compute them under torch.no_grad().")
        expect_close(mine.weight.grad, ref.weight.grad.float(), f"{what}: gradient w.r.t. weight", atol=1e-5,
                     rtol=1e-5, hint="weight must be the nn.Parameter that multiplies the normalized x.")
        expect_close(mine.bias.grad, ref.bias.grad.float(), f"{what}: gradient w.r.t. bias", atol=1e-5, rtol=1e-5,
                     hint="bias must be the nn.Parameter added at the end.")


def compare_running(mine, ref, what):
    expect_close(mine.running_mean, ref.running_mean.float(), f"{what}: running_mean", atol=1e-5, rtol=1e-5,
                 hint="running_mean ← (1 − momentum)·running_mean + momentum·batch_mean (PyTorch's convention: "
                      "momentum weighs the NEW batch, unlike Keras).")
    expect_close(mine.running_var, ref.running_var.float(), f"{what}: running_var", atol=1e-5, rtol=1e-5,
                 hint="running_var ← (1 − momentum)·running_var + momentum·σ²_unbiased — the running variance uses "
                      "the UNBIASED batch variance (divide by B − 1), while the normalization uses the biased one.")


def test_parameters_buffers_and_initial_values(impl):
    m = impl.BatchNorm1d(4)
    expect(isinstance(m, nn.Module), "BatchNorm1d must be an nn.Module (subclass nn.Module, call super().__init__()).")
    params, buffers = dict(m.named_parameters()), dict(m.named_buffers())
    for name, value in (("weight", 1.0), ("bias", 0.0)):
        expect(name in params, f"BatchNorm1d(4) needs an nn.Parameter named `{name}`; parameters found: {list(params)}")
        expect_close(params[name].detach(), torch.full((4,), value), f"BatchNorm1d(4).{name} at initialization",
                     atol=0.0, hint="weight starts at 1 and bias at 0, so the layer starts as a pure standardization.")
    for name, value in (("running_mean", 0.0), ("running_var", 1.0)):
        expect(name in buffers, f"BatchNorm1d(4) needs a buffer `{name}` registered with self.register_buffer(...) "
               f"(so it is saved in state_dict and moved by .to()); buffers found: {list(buffers)}")
        expect_close(buffers[name], torch.full((4,), value), f"BatchNorm1d(4).{name} at initialization", atol=0.0,
                     hint="running_mean starts at 0 and running_var at 1.")


def test_training_steps_match_pytorch(impl):
    mine, ref = make(impl, 3, seed=0)
    for k, x in enumerate(batches(1, 4, b=6, c=3)):
        compare_step(mine, ref, x, f"training step {k + 1} of BatchNorm1d(3) on a (6, 3) batch")
        compare_running(mine, ref, f"after training step {k + 1}")


def test_eval_uses_running_statistics(impl):
    mine, ref = make(impl, 4, seed=2)
    for x in batches(3, 3, b=5, c=4):
        mine(x)
        ref(x.double())
    mine.eval()
    ref.eval()
    x = 2 * torch.randn(7, 4, generator=torch.Generator().manual_seed(4)) - 3
    compare_step(mine, ref, x, "eval forward of BatchNorm1d(4) after 3 training steps")
    single = mine(x[:1])
    expect_close(single, ref(x[:1].double()).detach().float(), "eval forward on a batch of ONE example", atol=1e-5,
                 rtol=1e-5, hint="In eval mode normalize with running_mean and running_var, not with the batch's own "
                                 "statistics (a batch of one has none); switch on self.training.")
    compare_running(mine, ref, "after an eval forward (eval must not update the running statistics)")


def test_running_variance_is_unbiased(impl):
    # B = 2: the unbiased variance is twice the biased one.
    mine, ref = make(impl, 2, seed=5, momentum=0.5)
    x = torch.tensor([[1.0, -2.0], [3.0, 4.0]])
    mine(x)
    ref(x.double())
    compare_running(mine, ref, "BatchNorm1d(2, momentum=0.5) after one step on a batch of 2")


def test_custom_momentum_and_eps(impl):
    mine, ref = make(impl, 3, seed=6, momentum=0.3, eps=0.1)
    g = torch.Generator().manual_seed(7)
    for k in range(3):
        x = 0.2 * torch.randn(5, 3, generator=g) + 1.0  # variance ~0.04, so eps = 0.1 matters
        compare_step(mine, ref, x, f"training step {k + 1} of BatchNorm1d(3, eps=0.1, momentum=0.3)",
                     check_grads=False)
        compare_running(mine, ref, f"after step {k + 1} with momentum=0.3")
    mine.eval()
    ref.eval()
    x = 0.2 * torch.randn(4, 3, generator=g) + 1.0  # running_var ~0.3 after 3 steps, so eps = 0.1 matters here too
    expect_close(mine(x), ref(x.double()).detach().float(), "eval forward of BatchNorm1d(3, eps=0.1, momentum=0.3)",
                 atol=1e-5, rtol=1e-5,
                 hint="Eval is the training formula with the running statistics: (x − running_mean) / "
                      "√(running_var + eps) · weight + bias — eps stays inside the root in eval too.")


def test_running_statistics_carry_no_graph(impl):
    mine, _ = make(impl, 3, seed=8)
    g = torch.Generator().manual_seed(9)
    x = torch.randn(4, 3, generator=g, requires_grad=True)
    mine(x).sum().backward()
    for name in ("running_mean", "running_var"):
        t = getattr(mine, name)
        expect(t.grad_fn is None and not t.requires_grad,
               f"after a training forward, {name} is part of the autograd graph (grad_fn={t.grad_fn}) — update "
               "the running statistics under torch.no_grad() (or from detached batch statistics), or every step "
               "keeps the previous step's graph alive and eval-mode backward fails.")
    mine.eval()
    out = mine(torch.randn(2, 3, generator=g, requires_grad=True))
    out.sum().backward()  # must not raise
