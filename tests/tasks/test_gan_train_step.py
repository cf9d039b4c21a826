"""gan-train-step: one D update on real and G(z).detach(), then one G update (non-saturating) through the updated D.

The oracle below redoes every step in float64 with torch.autograd.grad and a hand-written SGD update, using only
torch's BCE-with-logits: no optimizer state, no .grad accumulation.
"""
import copy
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from genprep.learner.checks import expect, expect_close

from _threads import single_thread

HINT = ("D step: zero D's grads, L_D = BCE(D(real), 1) + BCE(D(G(z).detach()), 0), backward, opt_D.step(). "
        "G step: zero G's grads, L_G = BCE(D(G(z)), 1) through the UPDATED D (no detach), backward, opt_G.step().")


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


def params(module):
    return [p.detach().clone() for p in module.parameters()]


def expect_params(module, want, what, hint):
    for (name, p), w in zip(module.named_parameters(), want):
        expect_close(p.detach(), w.float(), f"{what}: parameter {name!r}", atol=2e-5, rtol=1e-4, hint=hint)


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
           f"train_step should return a tuple (d_loss, g_loss), got {type(out).__name__}: {out!r:.100}")
    for name, v in zip(("d_loss", "g_loss"), out):
        expect(isinstance(v, float),
               f"train_step should return {name} as a Python float (loss.item()), got {type(v).__name__}")
    return out


def test_one_step_equals_the_autograd_oracle(impl):
    G, D = make_models(0)
    G0 = params(G)
    oracle_G, oracle_D = copy.deepcopy(G).double(), copy.deepcopy(D).double()
    (real, z), = batches(0, 1)
    lr_G, lr_D = 0.4, 0.7
    log = []
    opt_G = RecordingSGD(G, lr_G, "opt_G", log, {"G": G, "D": D})
    opt_D = RecordingSGD(D, lr_D, "opt_D", log, {"G": G, "D": D})
    d_loss, g_loss = run_impl(impl, G, D, real, z, opt_G, opt_D)
    want_d, want_g, grads_D, grads_G = oracle_step(oracle_G, oracle_D, real, z, lr_G, lr_D)

    order = [entry[0] for entry in log]
    expect(order == ["opt_D", "opt_G"],
           f"train_step called the optimizers' step() in the order {order}; expected exactly ['opt_D', 'opt_G']: "
           "first update D, then update G through the updated D (and never step D during the G update).")
    (_, d_grads, at_d), (_, g_grads, at_g) = log
    for (name, _), before, now in zip(G.named_parameters(), G0, at_d["G"]):
        expect(torch.equal(before, now), f"G's parameter {name!r} changed before opt_D.step(); G must not be "
                                          "changed by the D update.")
    for (name, _), gr, want in zip(D.named_parameters(), d_grads, grads_D):
        expect(gr is not None, f"when opt_D.step() was called, D's parameter {name!r} had no gradient")
        expect_close(gr, want.float(), f"D's gradient for {name!r} at opt_D.step()", atol=1e-5, rtol=1e-4,
                     hint="It must be ∇_D of BCE(D(real), 1) + BCE(D(G(z).detach()), 0) alone. " + HINT)
    for (name, _), gr, want in zip(G.named_parameters(), g_grads, grads_G):
        expect(gr is not None and bool(gr.abs().sum() > 0),
               f"when opt_G.step() was called, G's parameter {name!r} had no (or zero) gradient — was the "
               "generator's loss computed on a detached fake? " + HINT)
        expect_close(gr, want.float(), f"G's gradient for {name!r} at opt_G.step()", atol=1e-5, rtol=1e-4,
                     hint="It must be ∇_G of the non-saturating loss BCE(D(G(z)), 1) through the updated D, and "
                          "nothing else: if the D loss also reached G, detach the fake in the D step. " + HINT)
    expect(abs(d_loss - want_d) < 1e-5, f"train_step returned d_loss = {d_loss:.6f}, expected {want_d:.6f} "
                                        "(the D loss before the D update). " + HINT)
    expect(abs(g_loss - want_g) < 1e-5, f"train_step returned g_loss = {g_loss:.6f}, expected {want_g:.6f} "
                                        "(the non-saturating G loss through the updated D). " + HINT)
    expect_params(D, params(oracle_D), "D after train_step", "D must be updated once, by the D loss only — "
                  "the G update must not change D. " + HINT)
    for (name, _), before, now in zip(D.named_parameters(), at_g["D"], params(D)):
        expect(torch.equal(before, now), f"D's parameter {name!r} changed after opt_G.step() was called; the G "
                                          "update must not change D.")
    expect_params(G, params(oracle_G), "G after train_step", HINT)


def test_several_steps_equal_the_autograd_oracle(impl):
    G, D = make_models(1)
    oracle_G, oracle_D = copy.deepcopy(G).double(), copy.deepcopy(D).double()
    lr_G, lr_D = 0.3, 0.5
    opt_G, opt_D = torch.optim.SGD(G.parameters(), lr=lr_G), torch.optim.SGD(D.parameters(), lr=lr_D)
    for step, (real, z) in enumerate(batches(1, 6)):
        d_loss, g_loss = run_impl(impl, G, D, real, z, opt_G, opt_D)
        want_d, want_g, _, _ = oracle_step(oracle_G, oracle_D, real, z, lr_G, lr_D)
        hint = ("Gradients accumulate across backward() calls: zero each optimizer's gradients before its "
                "backward, every step (the G loss's backward also leaves gradients in D). " + HINT)
        expect_params(D, params(oracle_D), f"D after step {step + 1} of 6", hint)
        expect_params(G, params(oracle_G), f"G after step {step + 1} of 6", hint)
        expect(abs(d_loss - want_d) < 2e-5 and abs(g_loss - want_g) < 2e-5,
               f"step {step + 1}: train_step returned (d_loss, g_loss) = ({d_loss:.6f}, {g_loss:.6f}), "
               f"expected ({want_d:.6f}, {want_g:.6f}). {hint}")


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
           f"after {steps} train_steps on data from N({mu}, {sigma}²), G's samples have mean {m:.3f} and std {s:.3f}; "
           f"expected mean within 0.3 of {mu} and std within 0.35 of {sigma}. " + HINT)
