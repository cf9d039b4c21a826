"""kl-normal: KL between diagonal Gaussians, summed over the last dim."""
import math

import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.distributions import Normal, kl_divergence

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor

HINT = ("Per dimension: ½(log σ_p²/σ_q² + (σ_q² + (μ_q−μ_p)²)/σ_p² − 1), with σ² = exp(logvar); "
        "sum over the last dim only.")


def oracle(mu_q, logvar_q, mu_p, logvar_p):
    q = Normal(mu_q.double(), (0.5 * logvar_q.double()).exp())
    p = Normal(mu_p.double(), (0.5 * logvar_p.double()).exp())
    return kl_divergence(q, p).sum(-1).to(mu_q.dtype)


def test_standard_normal_prior_by_default(impl):
    g = torch.Generator().manual_seed(1)
    mu, logvar = torch.randn(5, 3, generator=g), torch.randn(5, 3, generator=g)
    got = expect_deterministic(impl.kl_normal, mu, logvar, what="kl_normal(mu, logvar)")
    expect_close(got, oracle(mu, logvar, torch.zeros(5, 3), torch.zeros(5, 3)),
                 "kl_normal(mu, logvar) against N(0, I)", atol=1e-5, hint=HINT)


def test_general_prior_and_batch_shape(impl):
    g = torch.Generator().manual_seed(2)
    shape = (2, 4, 6)
    mu_q, mu_p = torch.randn(shape, generator=g), torch.randn(shape, generator=g)
    logvar_q, logvar_p = torch.randn(shape, generator=g), torch.randn(shape, generator=g)
    got = impl.kl_normal(mu_q, logvar_q, mu_p, logvar_p)
    expect_tensor(got, "kl_normal(...) on inputs of shape (2, 4, 6)", shape=(2, 4), dtype=torch.float32)
    expect_close(got, oracle(mu_q, logvar_q, mu_p, logvar_p), "kl_normal(mu_q, logvar_q, mu_p, logvar_p)",
                 atol=1e-4, rtol=1e-4, hint=HINT)


def test_small_and_large_variances(impl):
    # logvar far from 0 is where exp(logvar) vs logvar mistakes show most.
    mu_q = torch.tensor([[0.3, -1.0, 2.0, 0.0]])
    logvar_q = torch.tensor([[-6.0, -2.5, 3.0, 0.7]])
    mu_p = torch.tensor([[0.0, 0.5, -1.0, 0.2]])
    logvar_p = torch.tensor([[1.0, -3.0, 0.5, 0.7]])
    expect_close(impl.kl_normal(mu_q, logvar_q, mu_p, logvar_p), oracle(mu_q, logvar_q, mu_p, logvar_p),
                 "kl_normal with small and large variances", atol=1e-4, rtol=1e-4, hint=HINT)
    expect_close(impl.kl_normal(mu_q, logvar_q), oracle(mu_q, logvar_q, torch.zeros(1, 4), torch.zeros(1, 4)),
                 "kl_normal with small and large variances against N(0, I)", atol=1e-4, rtol=1e-4, hint=HINT)


def test_agrees_with_a_monte_carlo_estimate(impl):
    # KL(q‖p) = E_q[log q(z) − log p(z)]; 200k samples give a standard error of ~0.005 here.
    g = torch.Generator().manual_seed(3)
    mu_q, logvar_q = torch.tensor([0.5, -1.0]), torch.tensor([-0.5, 0.3])
    mu_p, logvar_p = torch.tensor([0.0, 0.5]), torch.tensor([0.2, -0.4])
    q = Normal(mu_q.double(), (0.5 * logvar_q.double()).exp())
    p = Normal(mu_p.double(), (0.5 * logvar_p.double()).exp())
    z = q.mean + q.stddev * torch.randn(200_000, 2, generator=g, dtype=torch.float64)
    estimate = (q.log_prob(z) - p.log_prob(z)).sum(-1).mean()
    got = impl.kl_normal(mu_q, logvar_q, mu_p, logvar_p)
    expect_tensor(got, "kl_normal on 1-D inputs (no batch)", shape=(), dtype=torch.float32)
    expect(abs(float(got) - float(estimate)) < 0.03,
           f"kl_normal returned {float(got):.4f}, but a Monte Carlo estimate E_q[log q − log p] is "
           f"{float(estimate):.4f} (±0.03). {HINT}")


def test_zero_exactly_when_q_equals_p(impl):
    mu, logvar = torch.randn(3, 5), torch.randn(3, 5)
    same = impl.kl_normal(mu, logvar, mu.clone(), logvar.clone())
    expect_close(same, torch.zeros(3), "kl_normal(q, q)", atol=1e-6, hint="KL of a distribution with itself is 0.")
    shifted = impl.kl_normal(mu, logvar, mu + 0.1, logvar)
    expect(bool((shifted > 1e-4).all()), f"kl_normal(q, p) with p's mean shifted by 0.1 gave {shifted.tolist()}; "
                                         "it must be positive when q ≠ p.")
    expect_close(impl.kl_normal(torch.zeros(2, 3), torch.zeros(2, 3)), torch.zeros(2),
                 "kl_normal(N(0, I) ‖ N(0, I))", atol=1e-6, hint=HINT)


@given(st.lists(st.tuples(st.floats(-3, 3), st.floats(-4, 4), st.floats(-3, 3), st.floats(-4, 4)),
                min_size=1, max_size=5))
def test_non_negative(impl, rows):
    t = torch.tensor(rows, dtype=torch.float32)  # (D, 4): one latent dim per row
    mu_q, logvar_q, mu_p, logvar_p = (t[:, i] for i in range(4))
    got = impl.kl_normal(mu_q, logvar_q, mu_p, logvar_p)
    expect(float(got) >= -1e-5, f"kl_normal returned {float(got):.6f} < 0 for {rows}; KL is never negative. {HINT}")
    expect_close(got, oracle(mu_q, logvar_q, mu_p, logvar_p), f"kl_normal for {rows}", atol=1e-4, rtol=1e-4,
                 hint=HINT)
    expect(math.isfinite(float(got)), "kl_normal returned a non-finite value")
