"""hinge-gan-loss: L_D = mean relu(1 − real) + mean relu(1 + fake); L_G = −mean fake."""
import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_scalar, expect_tensor

HINT_D = ("L_D = relu(1 − real_logits).mean() + relu(1 + fake_logits).mean(): real logits should reach +1 and fake "
          "ones −1; each term is averaged over its own batch; no sigmoid, no log.")
HINT_G = "L_G = −fake_logits.mean(): the generator raises D's raw score of its samples, with no margin and no relu."


def d_oracle(real, fake):
    """Float64 closed form with explicit max(0, ·)."""
    r, f = real.double(), fake.double()
    zero = torch.zeros((), dtype=torch.float64)
    return torch.maximum(zero, 1 - r).mean() + torch.maximum(zero, 1 + f).mean()


def logits(seed, n, spread=2.0):
    """Logits spread over [−spread·3, spread·3], kept at least 0.05 away from the kinks at ±1."""
    g = torch.Generator().manual_seed(seed)
    x = spread * torch.randn(n, generator=g)
    near = ((x.abs() - 1).abs() < 0.05)
    return torch.where(near, x + 0.2 * torch.sign(x), x)


def test_discriminator_loss_matches_the_closed_form(impl):
    real, fake = logits(0, 7), logits(1, 7)
    got = impl.hinge_d_loss(real, fake)
    expect_tensor(got, "hinge_d_loss(real (7,), fake (7,))", shape=(), dtype=torch.float32)
    expect_scalar(got, d_oracle(real, fake).float(), "hinge_d_loss(real (7,), fake (7,))", atol=1e-5, rtol=1e-5,
                  hint="Signs: the real term is max(0, 1 − ℓ_real), the fake term max(0, 1 + ℓ_fake); the margin "
                       "is 1, not 0. " + HINT_D)


def test_each_term_is_averaged_over_its_own_batch(impl):
    # 3 real and 8 fake logits: a mean over the concatenated 11 terms weights them differently.
    real = torch.tensor([0.5, -0.3, 2.0])
    fake = torch.tensor([0.2, -2.0, 1.5, -0.5, 0.0, -3.0, 0.7, 2.5])
    got = impl.hinge_d_loss(real, fake)
    want = (0.5 + 1.3 + 0.0) / 3 + (1.2 + 0.0 + 2.5 + 0.5 + 1.0 + 0.0 + 1.7 + 3.5) / 8
    expect_scalar(got, want, "hinge_d_loss with 3 real and 8 fake logits", atol=1e-5, rtol=1e-5,
                  hint="Average the real term over the real batch and the fake term over the fake batch, then add "
                       "them — not one mean over all 11 terms. " + HINT_D)


def test_zero_loss_once_the_margins_are_met(impl):
    real = torch.tensor([1.2, 3.0, 1.05, 8.0])
    fake = torch.tensor([-1.1, -4.0, -2.5])
    got = impl.hinge_d_loss(real, fake)
    expect_scalar(got, 0.0, "hinge_d_loss with every real logit > 1 and every fake logit < −1", atol=1e-7,
                  hint="Past the margin an example costs nothing: that is the point of the hinge (max(0, ·)). A "
                       "non-zero value means the relu is missing (a Wasserstein-style −real + fake) or the margin "
                       "or the signs are wrong. " + HINT_D)
    inside = impl.hinge_d_loss(torch.tensor([0.5]), torch.tensor([-0.5]))
    expect_scalar(inside, 1.0, "hinge_d_loss(real=[0.5], fake=[−0.5])", atol=1e-6,
                  hint="Inside the margin: max(0, 1 − 0.5) + max(0, 1 − 0.5) = 1. " + HINT_D)


def test_discriminator_gradients_vanish_outside_the_margin_only(impl):
    real = torch.tensor([2.5, 0.4, -1.5, 1.3, 0.9])  # > 1 at indices 0 and 3
    fake = torch.tensor([-2.0, 0.3, -0.6, 1.8])  # < −1 at index 0
    r, f = real.clone().requires_grad_(True), fake.clone().requires_grad_(True)
    loss = impl.hinge_d_loss(r, f)
    expect(isinstance(loss, torch.Tensor) and loss.requires_grad,
           "hinge_d_loss's result carries no gradient — build it from torch operations on the logits")
    loss.backward()
    want_r = torch.where(real > 1, 0.0, -1.0 / 5)  # ∂/∂ℓ_real of mean max(0, 1 − ℓ)
    want_f = torch.where(fake < -1, 0.0, 1.0 / 4)  # ∂/∂ℓ_fake of mean max(0, 1 + ℓ)
    expect_close(r.grad, want_r, "∂hinge_d_loss/∂real_logits for real = [2.5, 0.4, −1.5, 1.3, 0.9]", atol=1e-6,
                 hint="Real logits above +1 must get zero gradient and those below −1/B_real. " + HINT_D)
    expect_close(f.grad, want_f, "∂hinge_d_loss/∂fake_logits for fake = [−2, 0.3, −0.6, 1.8]", atol=1e-6,
                 hint="Fake logits below −1 must get zero gradient and those above +1/B_fake. " + HINT_D)


def test_generator_loss_is_minus_the_mean_logit_with_gradient_everywhere(impl):
    fake = torch.tensor([3.0, -0.2, 1.5, -4.0, 0.7, 2.2])
    f = fake.clone().requires_grad_(True)
    got = impl.hinge_g_loss(f)
    expect_tensor(got, "hinge_g_loss(fake (6,))", shape=(), dtype=torch.float32)
    expect_scalar(got, -fake.double().mean().float(), "hinge_g_loss(fake = [3, −0.2, 1.5, −4, 0.7, 2.2])",
                  atol=1e-6, rtol=1e-6, hint=HINT_G)
    got.backward()
    expect_close(f.grad, torch.full((6,), -1.0 / 6), "∂hinge_g_loss/∂fake_logits", atol=1e-7,
                 hint="Every fake logit, even one D already scores above +1, gets gradient −1/B: the generator "
                      "side has no hinge. relu(1 − ℓ) would stop improving samples once they pass the margin. "
                      + HINT_G)


def test_any_shape_of_logits(impl):
    real, fake = logits(2, 6).reshape(6, 1), logits(3, 10).reshape(2, 5, 1)
    expect_scalar(impl.hinge_d_loss(real, fake), d_oracle(real, fake).float(),
                  "hinge_d_loss on real (6, 1) and fake (2, 5, 1) logits", atol=1e-5, rtol=1e-5,
                  hint="Means over all elements of each input; do not index a particular dimension. " + HINT_D)
    expect_scalar(impl.hinge_g_loss(fake), -fake.double().mean().float(), "hinge_g_loss on fake (2, 5, 1)",
                  atol=1e-6, rtol=1e-6, hint=HINT_G)


def test_deterministic_and_inputs_unchanged(impl):
    real, fake = logits(4, 5), logits(5, 5)
    r0, f0 = real.clone(), fake.clone()
    expect_deterministic(impl.hinge_d_loss, real, fake, what="hinge_d_loss(real, fake)")
    impl.hinge_g_loss(fake)
    expect(torch.equal(real, r0) and torch.equal(fake, f0),
           "the hinge losses modified their inputs in place (e.g. clamp_ or relu_); use out-of-place ops.")


@given(st.integers(1, 5), st.integers(1, 5), st.integers(0, 2**16))
def test_property_random_logits(impl, n_real, n_fake, seed):
    real, fake = logits(seed, n_real, 3.0), logits(seed + 1, n_fake, 3.0)
    expect_scalar(impl.hinge_d_loss(real, fake), d_oracle(real, fake).float(),
                  f"hinge_d_loss on {n_real} real and {n_fake} fake logits", atol=1e-5, rtol=1e-5, hint=HINT_D)
    expect_scalar(impl.hinge_g_loss(fake), -fake.double().mean().float(), f"hinge_g_loss on {n_fake} logits",
                  atol=1e-5, rtol=1e-5, hint=HINT_G)
