"""iwae-bound: log((1/K) Σ_k exp(log p(x, z_k) − log q(z_k | x))) per example, computed stably.

Oracles: the float64 closed form (max-shifted by hand), the single-sample ELBO, Jensen's inequality, the gradient
(the normalized importance weights), and a Monte Carlo check on a model with a known log p(x).
"""
import math

import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor, expect_unchanged

HINT = ("With log w = log_p_xz − log_q_zx (B, K): L = logsumexp(log w, dim=-1) − log K, one value per example "
        "(B,). Average the weights over the K samples (dim=-1), not over the batch.")
STABLE_HINT = ("Never exponentiate raw log-weights: exp(−1e4) is 0 in float32 (log 0 = −inf) and exp(100) is inf. "
               "Shift by each ROW's own max, m + log(mean(exp(log w − m))), or use torch.logsumexp(…, dim=-1) − "
               "log K.")


def oracle(log_p, log_q):
    """(B,) float64: m + log(Σ exp(log w − m)) − log K, written out."""
    log_w = log_p.double() - log_q.double()
    m = log_w.max(dim=-1, keepdim=True).values
    return (m.squeeze(-1) + (log_w - m).exp().sum(-1).log() - math.log(log_w.size(-1)))


def tol(*tensors):
    """Absolute tolerance: float32 rounds a log-weight of size M by up to eps·M/2 (about 6e-4 at M = 1e4)."""
    big = max(float(t.abs().max()) for t in tensors)
    return 1e-5 + 4 * torch.finfo(torch.float32).eps * big


def call(impl, log_p, log_q):
    B, K = log_p.shape
    what = f"iwae_bound(log_p_xz, log_q_zx) for B={B} examples and K={K} samples"
    out = impl.iwae_bound(log_p, log_q)
    expect_tensor(out, what, shape=(B,), dtype=torch.float32)
    return out, what


def test_matches_the_closed_form(impl):
    g = torch.Generator().manual_seed(0)
    log_p = -20 + 3 * torch.randn(4, 6, generator=g)
    log_q = -5 + torch.randn(4, 6, generator=g)
    before = (log_p.clone(), log_q.clone())
    out, what = call(impl, log_p, log_q)
    expect_unchanged(before[0], log_p, "log_p_xz")
    expect_unchanged(before[1], log_q, "log_q_zx")
    expect_close(out, oracle(log_p, log_q).float(), what, atol=tol(log_p, log_q), rtol=0.0, hint=HINT)


def test_one_sample_is_the_elbo(impl):
    g = torch.Generator().manual_seed(1)
    log_p, log_q = -30 + 5 * torch.randn(5, 1, generator=g), -3 + torch.randn(5, 1, generator=g)
    out, what = call(impl, log_p, log_q)
    expect_close(out, (log_p - log_q).squeeze(-1).double().float(), f"{what} (K = 1)", atol=tol(log_p, log_q),
                 rtol=0.0, hint="With K = 1 the bound is the single-sample ELBO log p(x, z) − log q(z | x): "
                 "log((1/1)·w) = log w. " + HINT)


def test_identical_weights_give_that_weight_not_plus_log_k(impl):
    # All K log-weights equal c: the mean of the weights is e^c, so L = c exactly — a plain logsumexp gives c + log K.
    log_q = torch.zeros(3, 8)
    log_p = torch.tensor([[-2.0], [0.5], [-40.0]]).expand(3, 8).clone()
    out, what = call(impl, log_p, log_q)
    expect_close(out, torch.tensor([-2.0, 0.5, -40.0]), f"{what}, all log-weights of a row equal",
                 atol=1e-5, rtol=0.0,
                 hint="The bound averages the weights: log((1/K) Σ_k w_k). torch.logsumexp alone is log Σ_k w_k, "
                      "which is too large by log K (here log 8 ≈ 2.08): subtract math.log(K).")


def test_at_least_the_mean_of_the_elbo_terms(impl):
    # Jensen: log mean_k w_k ≥ mean_k log w_k, strictly when the weights differ.
    g = torch.Generator().manual_seed(2)
    log_p, log_q = 4 * torch.randn(6, 5, generator=g), torch.randn(6, 5, generator=g)
    out, what = call(impl, log_p, log_q)
    mean_elbo = (log_p.double() - log_q.double()).mean(-1)
    gap = out.double() - mean_elbo
    expect(bool((gap > 0.1).all()),
           f"{what}: the bound minus the mean of the K single-sample ELBO terms is {gap.tolist()}; it must be "
           "positive (Jensen: log of the mean ≥ mean of the logs, here by at least 0.1). Averaging log w over the "
           "samples is just a K-sample estimate of the ELBO, not the IWAE bound: average the weights, then take "
           "the log.")
    expect_close(out, oracle(log_p, log_q).float(), what, atol=tol(log_p, log_q), rtol=0.0, hint=HINT)


def test_stable_for_log_weights_around_minus_1e4_and_large_positive(impl):
    # Realistic log-densities of high-dimensional data are around −1e4; narrow densities make log w large too.
    g = torch.Generator().manual_seed(3)
    offsets = torch.tensor([[-1e4], [0.0], [-3e3], [500.0]])
    log_p = offsets + 3 * torch.randn(4, 5, generator=g)
    log_q = torch.randn(4, 5, generator=g)
    out, what = call(impl, log_p, log_q)
    expect(bool(torch.isfinite(out).all()),
           f"{what} with log-weights around −1e4, 0, −3e3 and +500 returned {out.tolist()}. {STABLE_HINT}")
    expect_close(out, oracle(log_p, log_q).float(), f"{what}, log-weights around −1e4, 0, −3e3, +500",
                 atol=tol(log_p, log_q), rtol=0.0, hint=STABLE_HINT)


def test_gradient_is_the_normalized_importance_weights(impl):
    # ∂L/∂log p(x, z_k) = w_k / Σ_j w_j = softmax(log w)_k, and ∂L/∂log q = −that: the bound must stay differentiable.
    g = torch.Generator().manual_seed(4)
    log_p = (2 * torch.randn(3, 4, generator=g)).requires_grad_()
    log_q = torch.randn(3, 4, generator=g).requires_grad_()
    out, what = call(impl, log_p, log_q)
    expect(out.requires_grad, f"{what} is not differentiable (no grad_fn): keep the computation in torch, no "
                              ".item(), .detach() or numpy on the path.")
    out.sum().backward()
    want = torch.softmax(log_p.detach().double() - log_q.detach().double(), dim=-1).float()
    expect_close(log_p.grad, want, f"the gradient of {what}.sum() with respect to log_p_xz", atol=1e-6, rtol=1e-5,
                 hint="The gradient of log mean_k w_k with respect to log w_k is the normalized weight "
                      "w_k / Σ_j w_j. Detaching a max shift is fine; detaching anything else is not.")
    expect_close(log_q.grad, -want, f"the gradient of {what}.sum() with respect to log_q_zx", atol=1e-6, rtol=1e-5,
                 hint="log w = log p − log q, so the gradient with respect to log q is minus the normalized weights.")


def test_monte_carlo_tightens_with_k_towards_log_p_x(impl):
    # z ~ N(0, 1), x | z ~ N(z, 1) and the prior as proposal: log w = log N(x; z, 1), log p(x) = log N(x; 0, 2).
    g = torch.Generator().manual_seed(5)
    x, R = 2.0, 4000
    z = torch.randn(R, 64, generator=g, dtype=torch.float64)
    log_p = (-0.5 * math.log(2 * math.pi) - 0.5 * (x - z) ** 2 - 0.5 * math.log(2 * math.pi) - 0.5 * z ** 2).float()
    log_q = (-0.5 * math.log(2 * math.pi) - 0.5 * z ** 2).float()
    log_px = -0.5 * math.log(4 * math.pi) - x * x / 4  # ≈ −2.2655
    means = {}
    for K in (1, 4, 16, 64):
        out, _ = call(impl, log_p[:, :K].contiguous(), log_q[:, :K].contiguous())
        means[K] = out.double().mean().item()
    shown = ", ".join(f"K={K}: {v:.4f}" for K, v in means.items())
    expect(means[1] < means[4] < means[16] < means[64] <= log_px + 0.01,
           f"averaged over {R} draws, the bound is {shown}; it must increase with K and stay below "
           f"log p(x) = {log_px:.4f} (IWAE: L_1 ≤ L_K ≤ L_{{K+1}} ≤ log p(x)). {HINT}")
    # standard errors over R = 4000 draws: ≈ 0.034 for K = 1 (Var log w = 4.5), far less for K = 64
    expect(abs(means[64] - log_px) < 0.05 and abs(means[1] - (-3.4189)) < 0.15,
           f"averaged over {R} draws: {shown}; expected K=1 near the ELBO −3.419 and K=64 within 0.05 of "
           f"log p(x) = {log_px:.4f}. {HINT}")


def test_deterministic(impl):
    log_p, log_q = torch.randn(2, 3), torch.randn(2, 3)
    expect_deterministic(impl.iwae_bound, log_p, log_q, what="iwae_bound(log_p_xz, log_q_zx)")


@given(st.integers(1, 5), st.integers(1, 6), st.sampled_from([1.0, 10.0, 100.0]), st.sampled_from([0.0, -1e3]),
       st.integers(0, 2**16))
def test_property_any_batch_and_sample_count(impl, B, K, scale, offset, seed):
    g = torch.Generator().manual_seed(seed)
    log_p = offset + scale * torch.randn(B, K, generator=g)
    log_q = torch.randn(B, K, generator=g)
    out, what = call(impl, log_p, log_q)
    expect_close(out, oracle(log_p, log_q).float(), what, atol=tol(log_p, log_q), rtol=0.0, hint=HINT)
