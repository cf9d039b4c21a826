"""reward-model-loss: −mean log σ(r_c − r_r − margin), against a float64 softplus oracle."""
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_scalar

HINT = ("loss = -F.logsigmoid(r_chosen - r_rejected - margin).mean(), margin 0 when None: one term per PAIR, "
        "on the DIFFERENCE of the two rewards, averaged over the batch.")


def oracle(rc, rr, margin=0.0):
    """−log σ(z) = softplus(−z) = log(1 + e^{−z}), written in float64."""
    z = rc.double() - rr.double() - torch.as_tensor(margin, dtype=torch.float64)
    return F.softplus(-z).mean()


def rewards(B, seed, scale=2.0):
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(B, generator=g), scale * torch.randn(B, generator=g)


def test_matches_oracle_without_margin(impl):
    rc, rr = rewards(8, seed=0)
    expect_scalar(impl.bradley_terry_loss(rc, rr), oracle(rc, rr), "bradley_terry_loss(r_chosen (8,), r_rejected (8,))",
                  atol=1e-6, rtol=1e-5, hint=HINT)


def test_margin_as_tensor_float_and_zero_dim_tensor(impl):
    rc, rr = rewards(6, seed=1)
    m = torch.tensor([0.0, 0.5, 1.0, 2.0, 0.3, 1.5])
    expect_scalar(impl.bradley_terry_loss(rc, rr, m), oracle(rc, rr, m), "bradley_terry_loss(..., margin (6,))",
                  atol=1e-6, rtol=1e-5, hint="The margin is subtracted per pair: σ(r_c − r_r − m_i). " + HINT)
    expect_scalar(impl.bradley_terry_loss(rc, rr, margin=0.7), oracle(rc, rr, 0.7),
                  "bradley_terry_loss(..., margin=0.7)", atol=1e-6, rtol=1e-5,
                  hint="A Python float margin applies to every pair. " + HINT)
    expect_scalar(impl.bradley_terry_loss(rc, rr, margin=torch.tensor(1.2)), oracle(rc, rr, 1.2),
                  "bradley_terry_loss(..., margin=torch.tensor(1.2))", atol=1e-6, rtol=1e-5, hint=HINT)


def test_margin_makes_the_loss_larger(impl):
    # A positive margin demands r_c − r_r ≥ m: the same rewards now look worse, so the loss goes UP.
    rc, rr = torch.tensor([1.0, 0.5, 2.0]), torch.tensor([0.0, 0.2, 1.0])
    plain = impl.bradley_terry_loss(rc, rr)
    with_margin = impl.bradley_terry_loss(rc, rr, margin=1.0)
    expect(float(with_margin) > float(plain) + 0.1,
           f"bradley_terry_loss with margin=1.0 gave {float(with_margin):.4f}, without a margin {float(plain):.4f}; "
           "a positive margin must RAISE the loss (it is −log σ(r_c − r_r − m)). Did you add the margin instead of "
           "subtracting it?")
    expect_scalar(with_margin, oracle(rc, rr, 1.0), "bradley_terry_loss(r_c, r_r, margin=1.0)", atol=1e-6, rtol=1e-5,
                  hint=HINT)


def test_margin_none_is_margin_zero(impl):
    rc, rr = rewards(5, seed=2)
    a, b = impl.bradley_terry_loss(rc, rr), impl.bradley_terry_loss(rc, rr, margin=0.0)
    expect_scalar(a, float(b), "bradley_terry_loss(r_c, r_r) versus margin=0.0", atol=1e-7, rtol=0,
                  hint="margin=None means no margin, i.e. 0.")


def test_invariant_to_a_constant_added_to_both_rewards(impl):
    # Only the difference of the rewards is identified by preferences: a reward model's offset is arbitrary.
    rc, rr = rewards(6, seed=3)
    base = impl.bradley_terry_loss(rc, rr)
    for c in (-7.0, 5.0):
        shifted = impl.bradley_terry_loss(rc + c, rr + c)
        expect_scalar(shifted, float(base), f"bradley_terry_loss(r_c + {c}, r_r + {c})", atol=1e-5, rtol=1e-5,
                      hint="The loss may depend on r_c − r_r only. Scoring each reward on its own (a binary "
                           "cross-entropy with r_c as a 'good' logit and r_r as a 'bad' logit) is not the "
                           "Bradley–Terry loss.")


def test_finite_and_correct_for_huge_reward_differences(impl):
    rc = torch.tensor([1e4, -1e4, 0.5])
    rr = torch.tensor([0.0, 0.0, 0.0])
    got = impl.bradley_terry_loss(rc, rr)
    expect(bool(torch.isfinite(got).all()),
           f"bradley_terry_loss with reward differences ±1e4 returned {got}; log(sigmoid(-1e4)) = log(0) = -inf in "
           "float32 — use F.logsigmoid (or softplus(−z)).")
    expect_scalar(got, oracle(rc, rr), "bradley_terry_loss with reward differences +1e4, −1e4, 0.5", atol=1e-3,
                  rtol=1e-5, hint="A pair ranked wrong by 1e4 costs about 1e4; one ranked right by 1e4 costs ~0. "
                  + HINT)


def test_gradient_raises_chosen_and_lowers_rejected(impl):
    rc, rr = rewards(5, seed=4)
    rc.requires_grad_(True)
    rr.requires_grad_(True)
    impl.bradley_terry_loss(rc, rr, margin=0.5).backward()
    expect(rc.grad is not None and rr.grad is not None, "bradley_terry_loss must be differentiable w.r.t. the rewards")
    # dL/dr_c = −σ(−(r_c − r_r − m)) / B; dL/dr_r = −dL/dr_c.
    z = (rc.detach() - rr.detach()).double() - 0.5
    want = (-torch.sigmoid(-z) / 5).float()
    expect_close(rc.grad, want, "d bradley_terry_loss / d r_chosen", atol=1e-6, rtol=1e-4,
                 hint="The gradient must be negative (descent raises the chosen reward) and largest for pairs the "
                      "model gets wrong: −σ(−z)/B with z = r_c − r_r − m. Mean over the batch, not the sum?")
    expect_close(rr.grad, -want, "d bradley_terry_loss / d r_rejected", atol=1e-6, rtol=1e-4,
                 hint="The rejected reward's gradient is the negative of the chosen one's. " + HINT)


def test_is_deterministic_and_zero_dim(impl):
    rc, rr = rewards(4, seed=5)
    got = expect_deterministic(impl.bradley_terry_loss, rc, rr, what="bradley_terry_loss")
    expect_scalar(got, oracle(rc, rr), "bradley_terry_loss(r_c (4,), r_r (4,))", atol=1e-6, rtol=1e-5, hint=HINT)


@given(st.integers(1, 5), st.floats(-2.0, 2.0), st.integers(0, 2**16))
def test_property_any_batch_and_margin(impl, B, margin, seed):
    rc, rr = rewards(B, seed, scale=3.0)
    expect_scalar(impl.bradley_terry_loss(rc, rr, margin), oracle(rc, rr, margin),
                  f"bradley_terry_loss on a batch of {B} with margin={margin}", atol=1e-5, rtol=1e-5, hint=HINT)
