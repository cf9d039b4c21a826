"""wgan-gradient-penalty: weight · mean((‖∇_x̂ critic(x̂)‖₂ − 1)²) at x̂ = α·real + (1 − α)·fake."""
import torch

from genprep.learner.checks import expect, expect_close, expect_scalar, expect_tensor

from _critics import LinearCritic, QuadraticCritic

HINT = ("x̂ = α·real + (1 − α)·fake (one α per example); take ∇ of the critic's output w.r.t. x̂ "
        "(torch.autograd.grad with create_graph=True), flatten each example's gradient, take its L2 norm, "
        "then weight · mean((norm − 1)²).")


def quadratic_oracle(c, real, fake, alpha, weight):
    """The penalty for QuadraticCritic(c) as a closed form in float64, differentiable w.r.t. c."""
    x_hat = alpha.double() * real.double() + (1 - alpha.double()) * fake.double()
    norms = (c * x_hat).flatten(1).norm(dim=1)  # ‖c ⊙ x̂_i‖
    return weight * (norms - 1).pow(2).mean()


def data(seed, shape):
    g = torch.Generator().manual_seed(seed)
    real = torch.randn(shape, generator=g)
    fake = real + 0.5 + torch.rand(shape, generator=g)  # real − fake is never close to 0
    alpha = torch.tensor([0.05, 0.9, 0.3, 0.6, 1.0, 0.0])[: shape[0]].reshape(-1, *([1] * (len(shape) - 1)))
    return g, real, fake, alpha


def test_linear_critic_gradient_is_its_weight(impl):
    g, real, fake, alpha = data(0, (4, 2, 3, 3))
    w = torch.randn(2, 3, 3, generator=g)
    w = 2.5 * w / w.norm()  # ‖w‖ = 2.5, so (‖w‖ − 1)² = 2.25
    for weight in (10.0, 3.5):
        got = impl.gradient_penalty(LinearCritic(w), real, fake, alpha=alpha, weight=weight)
        expect_tensor(got, "gradient_penalty(...)", shape=(), dtype=torch.float32)
        expect_scalar(got, weight * 2.25, f"gradient_penalty with a linear critic (‖∇f‖ = 2.5), weight={weight}",
                      atol=1e-4, rtol=1e-5,
                      hint="For f(x) = <w, x> the gradient is w at every point, so the penalty is weight·(‖w‖ − 1)². "
                           "Penalize (‖∇‖ − 1)², not ‖∇‖²; take the norm of each example's gradient, not of the "
                           "whole batch's. " + HINT)
    got = impl.gradient_penalty(LinearCritic(w), real, fake, alpha=alpha)
    expect_scalar(got, 10.0 * 2.25, "gradient_penalty without `weight` (default 10)", atol=1e-4, rtol=1e-5, hint=HINT)


def test_quadratic_critic_gradient_is_taken_at_the_interpolates(impl):
    g, real, fake, alpha = data(1, (6, 5))
    c = torch.rand(5, generator=g) + 0.5
    got = impl.gradient_penalty(QuadraticCritic(c), real, fake, alpha=alpha, weight=2.0)
    want = quadratic_oracle(c.double(), real, fake, alpha, 2.0)
    expect_scalar(got, want.float(), "gradient_penalty with f(x) = ½Σc·x² (gradient c ⊙ x) and α given",
                  atol=1e-4, rtol=1e-4,
                  hint="The gradient must be taken at x̂ = α·real + (1 − α)·fake — not at the fakes, not at the "
                       "reals, and with α multiplying `real`. " + HINT)


def test_one_uniform_alpha_per_example_when_not_given(impl):
    B = 256
    g, real, fake, _ = data(2, (B, 3, 2))
    critic = QuadraticCritic(torch.ones(3, 2))
    got = impl.gradient_penalty(critic, real, fake)
    expect(len(critic.inputs) > 0, "gradient_penalty never called the critic")
    x_hat = critic.inputs[-1]
    expect_tensor(x_hat, "the critic's input x̂", shape=(B, 3, 2), dtype=torch.float32)
    ratio = ((x_hat - fake) / (real - fake)).flatten(1)  # = α elementwise, since x̂ − fake = α (real − fake)
    spread = (ratio.max(1).values - ratio.min(1).values).max().item()
    expect(spread < 1e-3,
           f"within one example, x̂ must be α·real + (1 − α)·fake with ONE α shared by all its elements; found α "
           f"varying by {spread:.3g} inside an example — draw alpha with shape (B, 1, ..., 1), not like `real`.")
    alpha = ratio.mean(1)
    lo, hi, mean = alpha.min().item(), alpha.max().item(), alpha.mean().item()
    expect(lo >= -1e-4 and hi <= 1 + 1e-4 and lo < 0.05 and hi > 0.95 and abs(mean - 0.5) < 0.06,
           f"the {B} per-example α values should look like draws from U(0, 1); got min {lo:.3f}, max {hi:.3f}, "
           f"mean {mean:.3f}. Use torch.rand (uniform), not torch.randn or a constant.")
    want = quadratic_oracle(torch.ones(3, 2, dtype=torch.float64), real, fake, alpha.reshape(B, 1, 1), 10.0)
    expect_scalar(got, want.float(), "gradient_penalty(critic, real, fake) with its own α", atol=1e-4, rtol=1e-4,
                  hint=HINT)


def test_differentiable_with_respect_to_the_critic_parameters(impl):
    g, real, fake, alpha = data(3, (4, 6))
    w = torch.randn(6, generator=g)
    w = 1.7 * w / w.norm()
    critic = LinearCritic(w)
    penalty = impl.gradient_penalty(critic, real, fake, alpha=alpha, weight=10.0)
    expect(isinstance(penalty, torch.Tensor) and penalty.requires_grad,
           "the penalty must be differentiable w.r.t. the critic's parameters so that the critic can be trained "
           "on it — compute the input gradient with torch.autograd.grad(..., create_graph=True).")
    penalty.backward()
    expect(critic.w.grad is not None, "after penalty.backward() the critic's weight has no gradient")
    w64 = w.double().requires_grad_(True)
    (10.0 * (w64.norm() - 1) ** 2).backward()  # closed form for a linear critic
    expect_close(critic.w.grad, w64.grad.float(), "∂penalty/∂w for a linear critic f(x) = <w, x> + b",
                 atol=1e-4, rtol=1e-4, hint=HINT)

    c = torch.rand(6, generator=g) + 0.5
    quad = QuadraticCritic(c)
    impl.gradient_penalty(quad, real, fake, alpha=alpha, weight=3.0).backward()
    c64 = c.double().requires_grad_(True)
    quadratic_oracle(c64, real, fake, alpha, 3.0).backward()
    expect(quad.c.grad is not None and bool(quad.c.grad.abs().sum() > 0),
           "∂penalty/∂c is missing or zero for the quadratic critic")
    expect_close(quad.c.grad, c64.grad.float(), "∂penalty/∂c for f(x) = ½Σc·x²", atol=1e-4, rtol=1e-4, hint=HINT)


def test_inputs_are_not_modified(impl):
    g, real, fake, alpha = data(4, (3, 4))
    r0, f0 = real.clone(), fake.clone()
    impl.gradient_penalty(QuadraticCritic(torch.ones(4)), real, fake, alpha=alpha)
    expect(torch.equal(real, r0) and torch.equal(fake, f0), "gradient_penalty modified `real` or `fake` in place")
