"""gan-discriminator-loss: mean BCE(real → 1) + mean BCE(fake → 0), on logits."""
import math

import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_scalar

HINT = ("L_D = mean(−log σ(real_logits)) + mean(−log(1 − σ(fake_logits))): two separate means, "
        "and D minimizes it (−V(D, G)). On logits, −log σ(ℓ) = softplus(−ℓ) and −log(1 − σ(ℓ)) = softplus(ℓ).")


def oracle(real_logits, fake_logits):
    r, f = real_logits.double(), fake_logits.double()
    return (F.binary_cross_entropy_with_logits(r, torch.ones_like(r))
            + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f))).float()


def test_matches_the_bce_oracle(impl):
    g = torch.Generator().manual_seed(0)
    real, fake = 3 * torch.randn(16, generator=g), 3 * torch.randn(16, generator=g)
    expect_scalar(impl.discriminator_loss(real, fake), oracle(real, fake),
                  "discriminator_loss(real_logits (16,), fake_logits (16,))", atol=1e-5, rtol=1e-5, hint=HINT)


def test_separate_means_for_batches_of_different_sizes(impl):
    # One mean over the concatenated batch would weight the two terms by their sizes (and halve the loss).
    g = torch.Generator().manual_seed(1)
    real, fake = 2 * torch.randn(6, 1, generator=g) + 1, 2 * torch.randn(2, 1, generator=g) - 1
    expect_scalar(impl.discriminator_loss(real, fake), oracle(real, fake),
                  "discriminator_loss(real_logits (6, 1), fake_logits (2, 1))", atol=1e-5, rtol=1e-5,
                  hint="Average the real term over the real batch and the fake term over the fake batch, then add. "
                       + HINT)


def test_finite_and_correct_at_huge_logits(impl):
    real = torch.tensor([1e4, -1e4, 0.0, 30.0])
    fake = torch.tensor([-1e4, 1e4, 1e4, -30.0])
    # expected: real terms (0 + 1e4 + log 2 + ~0)/4, fake terms (0 + 1e4 + 1e4 + ~0)/4
    expect_scalar(impl.discriminator_loss(real, fake), oracle(real, fake),
                  "discriminator_loss with logits ±1e4", atol=1e-2, rtol=1e-5,
                  hint="σ(ℓ) rounds to exactly 0 or 1 for |ℓ| ≳ 17, so log(σ(ℓ)) gives −inf; work on logits "
                       "(softplus, logsigmoid or BCE-with-logits) instead of taking log of probabilities.")


def test_decreases_as_the_discriminator_separates_real_from_fake(impl):
    margins = [-4.0, -1.0, 0.0, 0.5, 2.0, 6.0]
    losses = []
    for s in margins:
        real, fake = torch.full((8,), s), torch.full((8,), -s)
        losses.append(float(impl.discriminator_loss(real, fake)))
    expect(abs(losses[2] - 2 * math.log(2)) < 1e-5,
           f"with all logits 0 (D says 1/2 everywhere) discriminator_loss must be 2·log 2 = {2 * math.log(2):.6f}, "
           f"got {losses[2]:.6f}. {HINT}")
    for (s0, l0), (s1, l1) in zip(zip(margins, losses), zip(margins[1:], losses[1:])):
        expect(l1 < l0,
               f"discriminator_loss should fall as real logits rise and fake logits fall, but with real = +{s0}, "
               f"fake = −{s0} it is {l0:.4f} and with real = +{s1}, fake = −{s1} it is {l1:.4f}. "
               "Is the sign right? D maximizes V(D, G), so its loss is −V.")


def test_gradients_push_real_logits_up_and_fake_logits_down(impl):
    real = torch.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    fake = torch.tensor([-3.0, 0.0, 2.0, 1.0], requires_grad=True)
    impl.discriminator_loss(real, fake).backward()
    expect(real.grad is not None and fake.grad is not None,
           "discriminator_loss must be differentiable w.r.t. both logit tensors (no .detach(), .item() or numpy)")
    r, f = real.detach(), fake.detach()
    want_real = -(1 - torch.sigmoid(r)) / 3  # d/dℓ of mean softplus(−ℓ)
    want_fake = torch.sigmoid(f) / 4  # d/dℓ of mean softplus(ℓ)
    ok = bool(torch.allclose(real.grad, want_real, atol=1e-6)) and bool(torch.allclose(fake.grad, want_fake, atol=1e-6))
    expect(ok,
           f"∂L_D/∂real_logits = {real.grad.tolist()} (expected {want_real.tolist()}, all negative) and "
           f"∂L_D/∂fake_logits = {fake.grad.tolist()} (expected {want_fake.tolist()}, all positive). {HINT}")


@given(st.lists(st.floats(-20, 20), min_size=1, max_size=5), st.lists(st.floats(-20, 20), min_size=1, max_size=5))
def test_property_any_logits(impl, real, fake):
    r, f = torch.tensor(real), torch.tensor(fake)
    expect_scalar(impl.discriminator_loss(r, f), oracle(r, f), f"discriminator_loss({real}, {fake})",
                  atol=1e-5, rtol=1e-5, hint=HINT)
