"""gan-train-step: one D update on real and G(z).detach(), then one G update (non-saturating) through the updated D.

The oracle below redoes every step in float64 with torch.autograd.grad and a hand-written SGD update, using only
torch's BCE-with-logits: no optimizer state, no .grad accumulation.
"""
import copy
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from genprep.learner.checks import expect, expect_close, say

from _threads import single_thread

HINT = say(en="D step: zero D's grads, L_D = BCE(D(real), 1) + BCE(D(G(z).detach()), 0), backward, opt_D.step(). "
              "G step: zero G's grads, L_G = BCE(D(G(z)), 1) through the UPDATED D (no detach), backward, opt_G.step().",
           zh="判别器步：清零 D 的梯度，L_D = BCE(D(real), 1) + BCE(D(G(z).detach()), 0)，backward，opt_D.step()。"
              "生成器步：清零 G 的梯度，经过【更新后】的 D 计算 L_G = BCE(D(G(z)), 1)（不要 detach），backward，opt_G.step()。")
ZERO_GRADS = say(en="Gradients accumulate across backward() calls: zero each optimizer's gradients before its "
                    "backward, every step (the G loss's backward also leaves gradients in D). ",
                 zh="梯度会在多次 backward() 之间累加：每一步都要在各自的 backward 之前清零该优化器的梯度"
                    "（G 损失的 backward 也会在 D 里留下梯度）。")


def bce(logits, target):
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def make_models(seed):
    torch.manual_seed(seed)
    G = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    D = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1))
    return G, D


def batches(seed, n_steps, B=16):
    g = torch.Generator().manual_seed(seed)
    return [(2.0 + 0.5 * torch.randn(B, 1, generator=g), torch.randn(B, 2, generator=g)) for _ in range(n_steps)]


def oracle_step(G, D, real, z, lr_G, lr_D):
    """One alternating step on float64 copies, in place; returns (d_loss, g_loss, grads_D, grads_G)."""
    real, z = real.double(), z.double()
    d_loss = bce(D(real), 1.0) + bce(D(G(z).detach()), 0.0)
    grads_D = torch.autograd.grad(d_loss, list(D.parameters()))
    with torch.no_grad():
        for p, gr in zip(D.parameters(), grads_D):
            p -= lr_D * gr  # plain SGD
    g_loss = bce(D(G(z)), 1.0)  # non-saturating, through the updated D
    grads_G = torch.autograd.grad(g_loss, list(G.parameters()))
    with torch.no_grad():
        for p, gr in zip(G.parameters(), grads_G):
            p -= lr_G * gr
    return d_loss.item(), g_loss.item(), grads_D, grads_G


def likely_g_grads(G_old, D_old, D_new, real, z, grads_G):
    """Per parameter of G, what the usual mistakes leave in G's .grad at opt_G.step(), each with its cause."""
    real, z = real.double(), z.double()
    d_loss_of_g = torch.autograd.grad(bce(D_old(real), 1.0) + bce(D_old(G_old(z)), 0.0), list(G_old.parameters()))
    minimax = torch.autograd.grad(-bce(D_new(G_old(z)), 0.0), list(G_old.parameters()))
    not_detached = say(en="the fake was not detached in the D step, so ∇_G of the D loss stayed in G's .grad and was "
                          "added to the G loss's gradient; use G(z).detach() in the D loss (and zero G's grads before "
                          "the G backward).",
                       zh="判别器步里假样本没有 detach，D 损失对 G 的梯度留在了 G 的 .grad 里，又和 G 损失的梯度加在一起；"
                          "D 损失里要用 G(z).detach()（并在 G 的 backward 之前清零 G 的梯度）。")
    saturating = say(en="the saturating minimax loss log(1 − D(G(z))); the task's G loss is the non-saturating "
                        "−log D(G(z)) = BCE(D(G(z)), 1).",
                     zh="用了会饱和的极小极大损失 log(1 − D(G(z)))；题目要求的生成器损失是非饱和的 "
                        "−log D(G(z)) = BCE(D(G(z)), 1)。")
    return [(((a + b).float(), not_detached), (m.float(), saturating))
            for a, b, m in zip(d_loss_of_g, grads_G, minimax)]


def params(module):
    return [p.detach().clone() for p in module.parameters()]


def expect_params(module, want, what, hint):
    for (name, p), w in zip(module.named_parameters(), want):
        expect_close(p.detach(), w.float(), say(en=f"{what.en}: parameter {name!r}", zh=f"{what.zh}：参数 {name!r}"),
                     atol=2e-5, rtol=1e-4, hint=hint)


class RecordingSGD(torch.optim.SGD):
    """Plain SGD that notes, at each step(), who stepped, its gradients, and both models' parameters."""

    def __init__(self, module, lr, name, log, models):
        super().__init__(module.parameters(), lr=lr)
        self.module, self.name, self.log, self.models = module, name, log, models

    def step(self, closure=None):
        grads = [None if p.grad is None else p.grad.detach().clone() for p in self.module.parameters()]
        before = {k: params(m) for k, m in self.models.items()}
        self.log.append((self.name, grads, before))
        return super().step(closure)


def run_impl(impl, G, D, real, z, opt_G, opt_D):
    out = impl.train_step(G, D, opt_G, opt_D, real, z)
    expect(isinstance(out, tuple) and len(out) == 2,
           say(en=f"train_step should return a tuple (d_loss, g_loss), got {type(out).__name__}: {out!r:.100}",
               zh=f"train_step 应返回元组 (d_loss, g_loss)，实际得到 {type(out).__name__}：{out!r:.100}"))
    for name, v in zip(("d_loss", "g_loss"), out):
        expect(isinstance(v, float),
               say(en=f"train_step should return {name} as a Python float (loss.item()), got {type(v).__name__}",
                   zh=f"train_step 应把 {name} 作为 Python float 返回（loss.item()），实际是 {type(v).__name__}"))
    return out


def test_one_step_equals_the_autograd_oracle(impl):
    G, D = make_models(0)
    G0 = params(G)
    oracle_G, oracle_D = copy.deepcopy(G).double(), copy.deepcopy(D).double()
    G_old, D_old = copy.deepcopy(oracle_G), copy.deepcopy(oracle_D)
    (real, z), = batches(0, 1)
    lr_G, lr_D = 0.4, 0.7
    log = []
    opt_G = RecordingSGD(G, lr_G, "opt_G", log, {"G": G, "D": D})
    opt_D = RecordingSGD(D, lr_D, "opt_D", log, {"G": G, "D": D})
    d_loss, g_loss = run_impl(impl, G, D, real, z, opt_G, opt_D)
    want_d, want_g, grads_D, grads_G = oracle_step(oracle_G, oracle_D, real, z, lr_G, lr_D)
    likely_G = likely_g_grads(G_old, D_old, oracle_D, real, z, grads_G)

    order = [entry[0] for entry in log]
    if order == ["opt_G", "opt_D"]:
        cause = say(en="G was updated first, against the D from before this step; do the D step first, then the G "
                       "step through the updated D.",
                    zh="先更新了 G，用的是本步更新之前的 D；应先做判别器步，再经过更新后的 D 做生成器步。")
    elif order[:2] == ["opt_D", "opt_G"] and len(order) > 2:
        cause = say(en="D was stepped again after the G update, on the gradients the G loss left in D — D is trained to "
                       "help G fool it; step only opt_G in the G step (D stays frozen).",
                    zh="生成器更新之后又对 D 做了一次 step，用的是 G 损失留在 D 里的梯度——等于训练 D 去帮 G 骗过自己；"
                       "生成器步里只调用 opt_G.step()（D 保持冻结）。")
    else:
        cause = say(en="first update D, then update G through the updated D (and never step D during the G update).",
                    zh="先更新 D，再经过更新后的 D 更新 G（生成器更新期间绝不对 D 做 step）。")
    expect(order == ["opt_D", "opt_G"],
           say(en=f"train_step called the optimizers' step() in the order {order}; expected exactly ['opt_D', 'opt_G']: "
                  + cause.en,
               zh=f"train_step 调用各优化器 step() 的顺序是 {order}；应恰好为 ['opt_D', 'opt_G']：" + cause.zh))
    (_, d_grads, at_d), (_, g_grads, at_g) = log
    for (name, _), before, now in zip(G.named_parameters(), G0, at_d["G"]):
        expect(torch.equal(before, now),
               say(en=f"G's parameter {name!r} changed before opt_D.step(); G must not be changed by the D update.",
                   zh=f"G 的参数 {name!r} 在 opt_D.step() 之前就变了；判别器的更新不能改变 G。"))
    for (name, _), gr, want in zip(D.named_parameters(), d_grads, grads_D):
        expect(gr is not None,
               say(en=f"when opt_D.step() was called, D's parameter {name!r} had no gradient — call d_loss.backward() "
                      "before opt_D.step().",
                   zh=f"调用 opt_D.step() 时，D 的参数 {name!r} 没有梯度——要在 opt_D.step() 之前调用 d_loss.backward()。"))
        expect_close(gr, want.float(), say(en=f"D's gradient for {name!r} at opt_D.step()",
                                           zh=f"opt_D.step() 时 D 的参数 {name!r} 的梯度"), atol=1e-5, rtol=1e-4,
                     hint=say(en="It must be ∇_D of BCE(D(real), 1) + BCE(D(G(z).detach()), 0) alone. " + HINT.en,
                              zh="它必须只是 BCE(D(real), 1) + BCE(D(G(z).detach()), 0) 对 D 的梯度。" + HINT.zh))
    for (name, _), gr, want, likely in zip(G.named_parameters(), g_grads, grads_G, likely_G):
        expect(gr is not None and bool(gr.abs().sum() > 0),
               say(en=f"when opt_G.step() was called, G's parameter {name!r} had no (or zero) gradient — was the "
                      "generator's loss computed on a detached fake? Compute L_G on G(z) itself, not on "
                      "G(z).detach().",
                   zh=f"调用 opt_G.step() 时，G 的参数 {name!r} 没有梯度（或梯度为 0）——生成器损失是不是在 detach "
                      "过的假样本上算的？L_G 要在 G(z) 本身上计算，不能用 G(z).detach()。"))
        expect_close(gr, want.float(), say(en=f"G's gradient for {name!r} at opt_G.step()",
                                           zh=f"opt_G.step() 时 G 的参数 {name!r} 的梯度"), atol=1e-5, rtol=1e-4,
                     hint=say(en="It must be ∇_G of the non-saturating loss BCE(D(G(z)), 1) through the updated D, and "
                                 "nothing else: if the D loss also reached G, detach the fake in the D step. " + HINT.en,
                              zh="它必须只是非饱和损失 BCE(D(G(z)), 1) 经过更新后的 D 对 G 的梯度：如果 D 损失也传到了 G，"
                                 "就在判别器步里把假样本 detach。" + HINT.zh),
                     likely=likely)
    expect(abs(d_loss - want_d) < 1e-5,
           say(en=f"train_step returned d_loss = {d_loss:.6f}, expected {want_d:.6f} (the D loss before the D update: "
                  "BCE(D(real), 1) + BCE(D(G(z)), 0), the sum of both terms).",
               zh=f"train_step 返回的 d_loss = {d_loss:.6f}，应为 {want_d:.6f}（判别器更新之前的 D 损失："
                  "BCE(D(real), 1) + BCE(D(G(z)), 0)，两项之和）。"))
    expect(abs(g_loss - want_g) < 1e-5,
           say(en=f"train_step returned g_loss = {g_loss:.6f}, expected {want_g:.6f} (the non-saturating G loss "
                  "BCE(D(G(z)), 1) through the updated D).",
               zh=f"train_step 返回的 g_loss = {g_loss:.6f}，应为 {want_g:.6f}（经过更新后的 D 计算的非饱和生成器损失 "
                  "BCE(D(G(z)), 1)）。"))
    expect_params(D, params(oracle_D), say(en="D after train_step", zh="train_step 之后的 D"),
                  say(en="D must be updated once, by the D loss only — the G update must not change D. " + HINT.en,
                      zh="D 只能被 D 损失更新一次——生成器的更新不能改变 D。" + HINT.zh))
    for (name, _), before, now in zip(D.named_parameters(), at_g["D"], params(D)):
        expect(torch.equal(before, now),
               say(en=f"D's parameter {name!r} changed after opt_G.step() was called; the G update must not change D.",
                   zh=f"调用 opt_G.step() 之后 D 的参数 {name!r} 变了；生成器的更新不能改变 D。"))
    expect_params(G, params(oracle_G), say(en="G after train_step", zh="train_step 之后的 G"), HINT)


def test_several_steps_equal_the_autograd_oracle(impl):
    G, D = make_models(1)
    oracle_G, oracle_D = copy.deepcopy(G).double(), copy.deepcopy(D).double()
    lr_G, lr_D = 0.3, 0.5
    opt_G, opt_D = torch.optim.SGD(G.parameters(), lr=lr_G), torch.optim.SGD(D.parameters(), lr=lr_D)
    for step, (real, z) in enumerate(batches(1, 6)):
        d_loss, g_loss = run_impl(impl, G, D, real, z, opt_G, opt_D)
        want_d, want_g, _, _ = oracle_step(oracle_G, oracle_D, real, z, lr_G, lr_D)
        # Step 1 starts from empty gradients: a wrong first step is not about zeroing; later ones usually are.
        hint = say(en=ZERO_GRADS.en + HINT.en, zh=ZERO_GRADS.zh + HINT.zh) if step else HINT
        expect_params(D, params(oracle_D), say(en=f"D after step {step + 1} of 6", zh=f"第 {step + 1}/6 步之后的 D"), hint)
        expect_params(G, params(oracle_G), say(en=f"G after step {step + 1} of 6", zh=f"第 {step + 1}/6 步之后的 G"), hint)
        expect(abs(d_loss - want_d) < 2e-5 and abs(g_loss - want_g) < 2e-5,
               say(en=f"step {step + 1}: train_step returned (d_loss, g_loss) = ({d_loss:.6f}, {g_loss:.6f}), "
                      f"expected ({want_d:.6f}, {want_g:.6f}). {hint.en}",
                   zh=f"第 {step + 1} 步：train_step 返回 (d_loss, g_loss) = ({d_loss:.6f}, {g_loss:.6f})，"
                      f"应为 ({want_d:.6f}, {want_g:.6f})。{hint.zh}"))


def test_repeated_steps_fit_a_gaussian(impl):
    # Target N(2, 1). G starts near 0 with a small spread; 500 SGD steps of batch 256 are enough for the reference
    # to match the mean within 0.3 and the std within 0.35 (it typically does in about 250).
    mu, sigma, steps, B = 2.0, 1.0, 500, 256
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))
    D = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 1))
    opt_G, opt_D = torch.optim.SGD(G.parameters(), lr=0.3), torch.optim.SGD(D.parameters(), lr=0.3)
    g = torch.Generator().manual_seed(0)
    with single_thread():
        for step in range(steps):
            lr = 0.3 + (0.02 - 0.3) * step / steps  # linear decay settles the oscillation at the end
            for opt in (opt_G, opt_D):
                for group in opt.param_groups:
                    group["lr"] = lr
            real = mu + sigma * torch.randn(B, 1, generator=g)
            impl.train_step(G, D, opt_G, opt_D, real, torch.randn(B, 1, generator=g))
    with torch.no_grad():
        samples = G(torch.randn(20000, 1, generator=g))
    m, s = samples.mean().item(), samples.std().item()
    expect(math.isfinite(m) and abs(m - mu) < 0.3 and abs(s - sigma) < 0.35,
           say(en=f"after {steps} train_steps on data from N({mu}, {sigma}²), G's samples have mean {m:.3f} and std "
                  f"{s:.3f}; expected mean within 0.3 of {mu} and std within 0.35 of {sigma}. " + HINT.en,
               zh=f"在来自 N({mu}, {sigma}²) 的数据上做了 {steps} 次 train_step 后，G 的样本均值为 {m:.3f}、标准差为 "
                  f"{s:.3f}；均值应在 {mu} 的 0.3 以内，标准差应在 {sigma} 的 0.35 以内。" + HINT.zh))
