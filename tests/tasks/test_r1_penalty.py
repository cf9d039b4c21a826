"""r1-penalty: (γ/2) · mean_i ‖∇_x D(x_i)‖² at the real samples, differentiable w.r.t. D's parameters."""
import torch

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_scalar, expect_tensor

from _critics import LinearCritic, QuadraticCritic

HINT = ("x = real.detach().requires_grad_(True); grad = torch.autograd.grad(D(x).sum(), x, create_graph=True)[0]; "
        "then (gamma / 2) · grad.flatten(1).pow(2).sum(1).mean(): the SQUARED norm of each example's gradient "
        "(summed over its features), averaged over the batch, times γ/2 — no '− 1' (that is WGAN-GP).")


def quadratic_oracle(c, real, gamma):
    """The penalty for QuadraticCritic(c) in float64, differentiable w.r.t. c: (γ/2) mean_i Σ (c x_i)²."""
    return 0.5 * gamma * (c * real.double()).flatten(1).pow(2).sum(1).mean()


def test_linear_discriminator_gives_half_gamma_times_the_squared_weight_norm(impl):
    g = torch.Generator().manual_seed(0)
    real = torch.randn(4, 2, 3, generator=g)
    w = torch.randn(2, 3, generator=g)
    w = 1.5 * w / w.norm()  # ‖w‖² = 2.25
    for gamma in (10.0, 0.7):
        got = impl.r1_penalty(LinearCritic(w), real, gamma=gamma)
        expect_tensor(got, f"r1_penalty(linear D, real (4, 2, 3), gamma={gamma})", shape=(), dtype=torch.float32)
        expect_scalar(got, 0.5 * gamma * 2.25, f"r1_penalty with a linear D (‖∇D‖ = 1.5 everywhere), gamma={gamma}",
                      atol=1e-5, rtol=1e-5,
                      hint="For D(x) = <w, x> + b the input gradient is w, so the penalty is (γ/2)·‖w‖². A factor "
                           "of 2 off means γ instead of γ/2; 1.5 instead of 2.25 means the norm was not squared; "
                           "0.25 means (‖∇‖ − 1)² (WGAN-GP's penalty, not R1). " + HINT)
    got = impl.r1_penalty(LinearCritic(w), real)
    expect_scalar(got, 5.0 * 2.25, "r1_penalty without `gamma` (default 10)", atol=1e-5, rtol=1e-5, hint=HINT)


def test_quadratic_discriminator_gradient_is_taken_at_the_real_samples(impl):
    g = torch.Generator().manual_seed(1)
    real = torch.randn(5, 4, generator=g)
    c = torch.rand(4, generator=g) + 0.5
    D = QuadraticCritic(c)
    got = impl.r1_penalty(D, real, gamma=3.0)
    expect(len(D.inputs) > 0, "r1_penalty never called the discriminator")
    expect_close(D.inputs[-1], real, "the discriminator's input inside r1_penalty", atol=0, rtol=0,
                 hint="R1 is taken at the real samples themselves — no interpolation with fakes, no noise.")
    expect_scalar(got, quadratic_oracle(c.double(), real, 3.0).float(),
                  "r1_penalty with D(x) = ½Σc·x² (input gradient c ⊙ x), gamma=3", atol=1e-5, rtol=1e-5,
                  hint="Sum the squared gradient over each example's features, then average over the batch: "
                       "not a mean over all elements, not one norm of the whole batch. " + HINT)


def test_norm_is_summed_over_all_non_batch_dims(impl):
    # Images (B, C, H, W): the per-example squared norm sums over C·H·W entries.
    g = torch.Generator().manual_seed(2)
    real = torch.randn(3, 2, 4, 4, generator=g)
    c = torch.rand(2, 4, 4, generator=g) + 0.3
    got = impl.r1_penalty(QuadraticCritic(c), real, gamma=1.0)
    expect_scalar(got, quadratic_oracle(c.double(), real, 1.0).float(),
                  "r1_penalty on images (3, 2, 4, 4) with D(x) = ½Σc·x²", atol=1e-5, rtol=1e-5,
                  hint="Flatten each example's gradient (grad.flatten(1)) and sum its squares over all 32 entries; "
                       "a mean over them is 32 times too small. " + HINT)


def test_differentiable_with_respect_to_the_discriminator_parameters(impl):
    g = torch.Generator().manual_seed(3)
    real = torch.randn(4, 6, generator=g)
    w = torch.randn(6, generator=g)
    D = LinearCritic(w)
    penalty = impl.r1_penalty(D, real, gamma=10.0)
    expect(isinstance(penalty, torch.Tensor) and penalty.requires_grad,
           "the penalty must be differentiable w.r.t. D's parameters so that D can be trained on it — compute the "
           "input gradient with torch.autograd.grad(..., create_graph=True).")
    penalty.backward()
    expect(D.w.grad is not None, "after penalty.backward() the discriminator's weight has no gradient")
    expect_close(D.w.grad, (10.0 * w.double()).float(), "∂penalty/∂w for a linear D (closed form γ·w)", atol=1e-5,
                 rtol=1e-5, hint=HINT)

    c = torch.rand(6, generator=g) + 0.5
    quad = QuadraticCritic(c)
    impl.r1_penalty(quad, real, gamma=2.0).backward()
    c64 = c.double().requires_grad_(True)
    quadratic_oracle(c64, real, 2.0).backward()
    expect(quad.c.grad is not None and bool(quad.c.grad.abs().sum() > 0),
           "∂penalty/∂c is missing or zero for the quadratic discriminator — was the graph kept (create_graph=True)?")
    expect_close(quad.c.grad, c64.grad.float(), "∂penalty/∂c for D(x) = ½Σc·x²", atol=1e-5, rtol=1e-5, hint=HINT)


def test_deterministic_and_inputs_unchanged(impl):
    real = torch.randn(3, 4, generator=torch.Generator().manual_seed(4))
    r0 = real.clone()
    expect_deterministic(impl.r1_penalty, LinearCritic(torch.ones(4)), real, what="r1_penalty(D, real)")
    impl.r1_penalty(QuadraticCritic(torch.ones(4)), real)
    expect(torch.equal(real, r0), "r1_penalty modified `real` in place")
    expect(not real.requires_grad,
           "after r1_penalty(D, real) the caller's `real` has requires_grad=True: the function switched it on in "
           "place (real.requires_grad_()), so every later D(real) builds a graph back to the data and D's loss.backward() "
           "fills real.grad. Work on a copy: x = real.detach().requires_grad_(True).")
