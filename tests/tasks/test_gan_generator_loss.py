"""gan-generator-loss: non-saturating −mean log σ(ℓ), or minimax mean log(1 − σ(ℓ)), on logits."""
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_scalar

HINT = ("non-saturating: −mean log σ(ℓ) = mean softplus(−ℓ) (BCE of the fakes against label 1); "
        "minimax: mean log(1 − σ(ℓ)) = −mean softplus(ℓ). G minimizes either one.")


def oracle(fake_logits, non_saturating):
    f = fake_logits.double()
    if non_saturating:
        return F.binary_cross_entropy_with_logits(f, torch.ones_like(f)).float()
    return (-F.binary_cross_entropy_with_logits(f, torch.zeros_like(f))).float()


def call(impl, logits, non_saturating):
    return impl.generator_loss(logits, non_saturating=non_saturating)


def test_non_saturating_is_the_default(impl):
    g = torch.Generator().manual_seed(0)
    logits = 3 * torch.randn(10, generator=g)
    expect_scalar(impl.generator_loss(logits), oracle(logits, True), "generator_loss(fake_logits) (default)",
                  atol=1e-5, rtol=1e-5, hint="The default must be the non-saturating loss. " + HINT)


def test_both_forms_match_the_oracle(impl):
    g = torch.Generator().manual_seed(1)
    logits = 4 * torch.randn(7, 1, generator=g)
    for ns in (True, False):
        expect_scalar(call(impl, logits, ns), oracle(logits, ns),
                      f"generator_loss(fake_logits (7, 1), non_saturating={ns})", atol=1e-5, rtol=1e-5, hint=HINT)


def test_finite_and_correct_at_huge_logits(impl):
    logits = torch.tensor([-1e4, 1e4, 0.0, -40.0])
    for ns in (True, False):
        expect_scalar(call(impl, logits, ns), oracle(logits, ns),
                      f"generator_loss([-1e4, 1e4, 0, -40], non_saturating={ns})", atol=1e-2, rtol=1e-5,
                      hint="σ(ℓ) rounds to exactly 0 or 1 for |ℓ| ≳ 17, so log(σ(ℓ)) or log(1 − σ(ℓ)) gives −inf; "
                           "use softplus / logsigmoid / BCE-with-logits on the logits.")


def test_minimax_gradient_vanishes_where_non_saturating_does_not(impl):
    # D confidently rejects the fakes: ℓ = −10, D(G(z)) = σ(−10) ≈ 4.5e-5. This is early training.
    logits = torch.full((4,), -10.0)
    grads = {}
    for ns in (True, False):
        x = logits.clone().requires_grad_(True)
        call(impl, x, ns).backward()
        expect(x.grad is not None, "generator_loss must be differentiable w.r.t. the logits (no .detach() or .item())")
        grads[ns] = x.grad
    s = torch.sigmoid(logits)
    want_ns, want_mm = -(1 - s) / 4, -s / 4  # d/dℓ of mean softplus(−ℓ) and of −mean softplus(ℓ)
    expect(bool(torch.allclose(grads[True], want_ns, atol=1e-6)),
           f"non-saturating loss at ℓ = −10: ∂L/∂ℓ = {grads[True].tolist()}, expected {want_ns.tolist()} "
           "(≈ −1/B: a strong push to raise D's score of the fakes). " + HINT)
    expect(bool(torch.allclose(grads[False], want_mm, atol=1e-7)),
           f"minimax loss at ℓ = −10: ∂L/∂ℓ = {grads[False].tolist()}, expected {want_mm.tolist()} "
           "(≈ −σ(ℓ)/B ≈ 0: the gradient vanishes when D wins). " + HINT)
    expect(bool((grads[True] < 0).all()) and bool((grads[False] < 0).all()),
           "both generator losses must decrease as D's logit for the fakes rises (negative gradient); "
           "a positive gradient means G is trained to make its samples look MORE fake.")


@given(st.lists(st.floats(-30, 30), min_size=1, max_size=5), st.booleans())
def test_property_any_logits(impl, logits, ns):
    x = torch.tensor(logits)
    expect_scalar(call(impl, x, ns), oracle(x, ns), f"generator_loss({logits}, non_saturating={ns})",
                  atol=1e-5, rtol=1e-5, hint=HINT)
