"""vae-reparameterize: z = μ + exp(½·logvar)·ε, differentiable in μ and logvar."""
import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_tensor

HINT = "z = mu + exp(0.5 * logvar) * eps: exp(0.5·logvar) is the standard deviation σ; exp(logvar) is the variance σ²."


def oracle(mu, logvar, eps):
    return (mu.double() + (0.5 * logvar.double()).exp() * eps.double()).to(mu.dtype)


def test_exact_for_a_given_eps_including_small_variances(impl):
    g = torch.Generator().manual_seed(0)
    mu = torch.randn(4, 5, generator=g)
    logvar = torch.tensor([-10.0, -6.0, -1.0, 0.0, 3.0]).expand(4, 5).clone()  # σ from 0.0067 to 4.5
    eps = torch.randn(4, 5, generator=g)
    z = impl.reparameterize(mu, logvar, eps)
    expect_tensor(z, "reparameterize(mu (4, 5), logvar, eps)", shape=(4, 5), dtype=torch.float32)
    expect_close(z, oracle(mu, logvar, eps), "reparameterize(mu, logvar, eps) with logvar from -10 to 3",
                 atol=1e-6, rtol=1e-5, hint=HINT)


def test_zero_noise_gives_the_mean_and_any_batch_shape(impl):
    g = torch.Generator().manual_seed(1)
    mu, logvar = torch.randn(2, 3, 4, generator=g), torch.randn(2, 3, 4, generator=g)
    expect_close(impl.reparameterize(mu, logvar, torch.zeros(2, 3, 4)), mu, "reparameterize(mu, logvar, eps=0)",
                 atol=1e-7, hint="With ε = 0 the sample is exactly μ.")
    eps = torch.randn(2, 3, 4, generator=g)
    expect_close(impl.reparameterize(mu, logvar, eps), oracle(mu, logvar, eps),
                 "reparameterize on inputs of shape (2, 3, 4)", atol=1e-6, rtol=1e-5, hint=HINT)


def test_gradients_by_autograd_with_a_given_eps(impl):
    g = torch.Generator().manual_seed(2)
    mu = torch.randn(3, 4, generator=g, requires_grad=True)
    logvar = (2 * torch.randn(3, 4, generator=g)).requires_grad_()
    eps = torch.randn(3, 4, generator=g)
    w = torch.randn(3, 4, generator=g)  # a random upstream gradient
    z = impl.reparameterize(mu, logvar, eps)
    expect(isinstance(z, torch.Tensor) and z.requires_grad,
           "reparameterize's result does not require grad: gradients cannot reach the encoder. Build z from mu "
           "and logvar with differentiable ops (no .detach(), no .sample(), no torch.normal).")
    (z * w).sum().backward()
    expect(mu.grad is not None and logvar.grad is not None, "no gradient reached mu or logvar")
    expect_close(mu.grad, w, "∂z/∂μ (times a random upstream gradient)", atol=1e-6,
                 hint="∂z/∂μ = 1 elementwise: z = μ + σ·ε.")
    std = (0.5 * logvar.detach().double()).exp()
    expect_close(logvar.grad, (0.5 * std * eps * w).float(), "∂z/∂logvar (times a random upstream gradient)",
                 atol=1e-5, rtol=1e-4, hint="∂z/∂logvar = ½·σ·ε when σ = exp(½·logvar). " + HINT)


def test_draws_its_own_noise_when_eps_is_none(impl):
    n = 20000
    mu = torch.tensor([0.5, -2.0, 3.0]).expand(n, 3).clone().requires_grad_()
    logvar = torch.tensor([-4.0, 0.0, 2.0]).expand(n, 3).clone().requires_grad_()
    z = impl.reparameterize(mu, logvar)
    expect_tensor(z, "reparameterize(mu, logvar) with eps=None", shape=(n, 3), dtype=torch.float32)
    std = torch.tensor([-4.0, 0.0, 2.0]).mul(0.5).exp()
    mean, var = z.detach().mean(0), z.detach().var(0)
    expect(bool(((mean - mu[0].detach()).abs() < 5 * std / n ** 0.5).all()),
           f"the sample means {mean.tolist()} of 20000 draws are not μ = [0.5, -2, 3] (within 5 standard errors). "
           "Draw ε ~ N(0, I), e.g. torch.randn_like(mu).")
    expect(bool(((var / std ** 2 - 1).abs() < 0.05).all()),
           f"the sample variances {var.tolist()} of 20000 draws are not e^logvar = {(std ** 2).tolist()} "
           f"(within 5%). {HINT}")
    expect(z.requires_grad, "with eps=None the result does not require grad: use rsample-style μ + σ·ε, "
                            "not a non-differentiable .sample() or torch.normal.")
    z.sum().backward()
    expect_close(mu.grad, torch.ones(n, 3), "∂z/∂μ with eps=None", atol=1e-6, hint="∂z/∂μ = 1.")
    expect_close(logvar.grad, 0.5 * (z.detach() - mu.detach()), "∂z/∂logvar with eps=None", atol=1e-4, rtol=1e-4,
                 hint="∂z/∂logvar = ½·σ·ε = ½(z − μ); the noise must enter as z = μ + σ·ε.")


@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.floats(-8, 4), st.integers(0, 2**16))
def test_property_exact_for_any_shape(impl, shape, logvar_shift, seed):
    g = torch.Generator().manual_seed(seed)
    mu, eps = torch.randn(shape, generator=g), torch.randn(shape, generator=g)
    logvar = torch.randn(shape, generator=g) + logvar_shift
    expect_close(impl.reparameterize(mu, logvar, eps), oracle(mu, logvar, eps),
                 f"reparameterize on shape {tuple(shape)}, logvar around {logvar_shift:.3g}", atol=1e-6, rtol=1e-5,
                 hint=HINT)
