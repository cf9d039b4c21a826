"""gumbel-softmax: y = softmax((logits + g)/τ) over the last dim; hard = one-hot value with the soft gradient.

Oracles: the float64 closed form with the noise passed in, autograd of that closed form for the straight-through
gradient, and Monte Carlo frequencies of the argmax (the Gumbel-max trick: argmax(logits + g) ~ softmax(logits)).
"""
import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor, expect_unchanged

HINT = ("y = softmax((logits + gumbels) / tau, dim=-1): add the noise to the logits, THEN divide the sum by the "
        "temperature (divide, not multiply), and normalize over the last dim.")
NOISE_HINT = ("Draw standard Gumbel noise g = −log(−log U) with U ~ Uniform(0, 1) (torch.rand_like), fresh on every "
              "call. −log U alone is exponential noise, log(−log U) has the wrong sign and Gaussian noise is another "
              "distribution: with any of them argmax(logits + g) no longer follows softmax(logits).")
ST_HINT = ("Straight-through: compute the soft y, take its argmax as a one-hot y_hard (torch.zeros_like(y).scatter"
           "(-1, index, 1.0) or F.one_hot), and return y_hard − y.detach() + y — the value of y_hard, the gradient "
           "of y.")


def oracle(logits, gumbels, tau):
    return torch.softmax((logits.double() + gumbels.double()) / float(tau), dim=-1)


def rtol_for(logits, gumbels, tau):
    """float32 rounds an input of size M by eps·M/2: a relative error ~eps·M in the probabilities."""
    return 1e-5 + 2 * torch.finfo(torch.float32).eps * float(((logits.abs() + gumbels.abs()) / float(tau)).max())


def gumbel_noise(shape, g):
    u = torch.rand(shape, generator=g, dtype=torch.float64).clamp(1e-12, 1 - 1e-12)
    return (-torch.log(-torch.log(u))).float()


def call(impl, logits, tau=None, hard=None, gumbels=None):
    kwargs = {}
    if tau is not None:
        kwargs["tau"] = tau
    if hard is not None:
        kwargs["hard"] = hard
    if gumbels is not None:
        kwargs["gumbels"] = gumbels
    shown = ", ".join(f"{k}={v if k != 'gumbels' else 'g'}" for k, v in kwargs.items())
    what = f"gumbel_softmax(logits of shape {tuple(logits.shape)}{', ' + shown if shown else ''})"
    out = impl.gumbel_softmax(logits, **kwargs)
    expect_tensor(out, what, shape=tuple(logits.shape), dtype=logits.dtype)
    return out, what


def test_closed_form_with_the_noise_passed_in(impl):
    g = torch.Generator().manual_seed(0)
    logits = 2 * torch.randn(4, 6, generator=g)
    gumbels = gumbel_noise((4, 6), g)
    before = (logits.clone(), gumbels.clone())
    for tau in (1.0, 0.5, 2.0):
        out, what = call(impl, logits, tau=tau, gumbels=gumbels)
        expect_close(out, oracle(logits, gumbels, tau).float(), what, atol=1e-6,
                     rtol=rtol_for(logits, gumbels, tau), hint=HINT)
    expect_unchanged(before[0], logits, "logits")
    expect_unchanged(before[1], gumbels, "gumbels")


def test_temperature_divides_logits_plus_noise(impl):
    # τ = 0.25 and τ = 4 are far from 1: multiplying by τ, or dividing only the logits, gives other numbers.
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(3, 5, generator=g)
    gumbels = gumbel_noise((3, 5), g)
    for tau in (0.25, 4.0):
        out, what = call(impl, logits, tau=tau, gumbels=gumbels)
        expect_close(out, oracle(logits, gumbels, tau).float(), what, atol=1e-6,
                     rtol=rtol_for(logits, gumbels, tau),
                     hint=f"With τ = {tau}: softmax((logits + g) / τ) — the temperature divides the logits AND the "
                          "noise; small τ sharpens towards one-hot, large τ flattens towards uniform.")
    out, what = call(impl, logits, tau=torch.tensor(0.5), gumbels=gumbels)  # τ may be a 0-dim tensor
    expect_close(out, oracle(logits, gumbels, 0.5).float(), f"{what} with tau a 0-dim tensor", atol=1e-6,
                 rtol=rtol_for(logits, gumbels, 0.5), hint=HINT)


def test_defaults_soft_with_tau_one_over_the_last_dim(impl):
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(2, 3, 4, generator=g)
    gumbels = gumbel_noise((2, 3, 4), g)
    out = expect_deterministic(impl.gumbel_softmax, logits, gumbels=gumbels,
                               what="gumbel_softmax(logits, gumbels=g)")
    expect_tensor(out, "gumbel_softmax(logits (2, 3, 4), gumbels=g)", shape=(2, 3, 4), dtype=torch.float32)
    expect_close(out, oracle(logits, gumbels, 1.0).float(), "gumbel_softmax(logits (2, 3, 4), gumbels=g)",
                 atol=1e-6, rtol=rtol_for(logits, gumbels, 1.0),
                 hint="Defaults: tau = 1, hard = False; the softmax runs over the LAST dim of a (2, 3, 4) input. "
                      + HINT)


def test_hard_value_is_the_one_hot_of_the_argmax_of_y(impl):
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(64, 5, generator=g)
    gumbels = gumbel_noise((64, 5), g)
    # with this noise the argmax of logits + g differs from the argmax of the logits in many rows
    assert ((logits + gumbels).argmax(-1) != logits.argmax(-1)).sum() >= 10
    out, what = call(impl, logits, tau=0.7, hard=True, gumbels=gumbels)
    want = torch.nn.functional.one_hot((logits.double() + gumbels.double()).argmax(-1), 5).float()
    expect_close(out, want, what, atol=1e-6, rtol=0.0,
                 hint="hard=True returns (in value) the one-hot of argmax y = argmax(logits + g) — the noisy sample, "
                      "not argmax(logits) — with exactly one 1 per row. " + ST_HINT)


def test_hard_gradient_is_the_soft_gradient(impl):
    g = torch.Generator().manual_seed(4)
    logits = torch.randn(6, 4, generator=g)
    gumbels = gumbel_noise((6, 4), g)
    w = torch.randn(6, 4, generator=g)
    tau = 0.8
    ref = logits.double().requires_grad_()
    (oracle(ref, gumbels, tau) * w.double()).sum().backward()
    for hard in (False, True):
        x = logits.clone().requires_grad_()
        out, what = call(impl, x, tau=tau, hard=hard, gumbels=gumbels)
        expect(out.requires_grad, f"{what} is not differentiable with respect to the logits (no grad_fn). "
                                  + (ST_HINT if hard else "Keep the computation in torch."))
        (out * w).sum().backward()
        expect_close(x.grad, ref.grad.float(), f"the gradient of ({what} · w).sum() with respect to the logits",
                     atol=1e-5, rtol=1e-4,
                     hint=(ST_HINT + " A bare one-hot has no gradient at all.") if hard else
                     "The gradient flows through softmax((logits + g)/τ); do not detach anything.")


def test_argmax_of_own_draws_follows_softmax_of_logits(impl):
    # Gumbel-max: P(argmax_k (ℓ_k + g_k) = i) = softmax(ℓ)_i, for the soft and the hard sample and any τ.
    p = torch.tensor([0.5, 0.3, 0.15, 0.05])
    n = 20000
    logits = p.log().expand(n, 4).clone()
    se = (p * (1 - p) / n).sqrt()
    torch.manual_seed(1234)
    for tau, hard in ((0.5, False), (2.0, True)):
        out, what = call(impl, logits, tau=tau, hard=hard)
        expect(bool(torch.isfinite(out).all()), f"{what} returned NaN or inf for some rows: clamp U away from 0 and "
                                                "1 before −log(−log U), or draw g = −log(Exponential(1)).")
        freq = torch.bincount(out.argmax(-1), minlength=4).float() / n
        z = ((freq - p).abs() / se).max().item()
        expect(z < 5,
               f"{what} on {n} rows of logits = log {p.tolist()}: the argmax frequencies are "
               f"{[round(v, 4) for v in freq.tolist()]}, expected {p.tolist()} (off by {z:.1f} standard errors). "
               + NOISE_HINT)
    a, _ = call(impl, logits[:8], tau=1.0)
    b, _ = call(impl, logits[:8], tau=1.0)
    expect(not torch.equal(a, b), "two calls of gumbel_softmax(logits) without `gumbels` returned the same sample; "
                                  "draw fresh noise on every call (no fixed seed inside the function).")


@given(st.lists(st.integers(1, 4), min_size=0, max_size=2), st.integers(2, 6), st.sampled_from([0.3, 1.0, 3.0]),
       st.integers(0, 2**16))
def test_property_any_shape_and_temperature(impl, batch, K, tau, seed):
    g = torch.Generator().manual_seed(seed)
    logits = 2 * torch.randn(*batch, K, generator=g)
    gumbels = gumbel_noise((*batch, K), g)
    out, what = call(impl, logits, tau=tau, gumbels=gumbels)
    expect_close(out, oracle(logits, gumbels, tau).float(), what, atol=1e-6,
                 rtol=rtol_for(logits, gumbels, tau), hint=HINT)
