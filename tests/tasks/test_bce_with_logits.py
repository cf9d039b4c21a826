"""bce-with-logits: mean binary cross-entropy computed from logits, targets in [0, 1]."""
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_scalar, expect_unchanged

HINT = ("Per element: max(ℓ, 0) − ℓ·y + log(1 + exp(−|ℓ|)); then the mean over ALL elements "
        "(as F.binary_cross_entropy_with_logits does).")


def oracle(logits, target):
    return F.binary_cross_entropy_with_logits(logits.double(), target.double())


def test_matches_pytorch_with_soft_targets(impl):
    g = torch.Generator().manual_seed(0)
    logits = 4 * torch.randn(5, 3, generator=g)
    target = torch.rand(5, 3, generator=g)  # soft labels in [0, 1]
    before = logits.clone()
    got = impl.bce_with_logits(logits, target)
    expect_scalar(got, oracle(before, target), "bce_with_logits(logits (5, 3), soft targets)", atol=1e-5, hint=HINT)
    expect_unchanged(before, logits, "the input logits")


def test_matches_pytorch_with_hard_targets_and_any_shape(impl):
    g = torch.Generator().manual_seed(1)
    for shape in [(7,), (2, 3, 4)]:
        logits = 3 * torch.randn(shape, generator=g)
        target = (torch.rand(shape, generator=g) > 0.5).float()
        expect_scalar(impl.bce_with_logits(logits, target), oracle(logits, target),
                      f"bce_with_logits on logits of shape {shape} with 0/1 targets", atol=1e-5, hint=HINT)


def test_finite_and_correct_at_logits_of_magnitude_1e4(impl):
    logits = torch.tensor([1e4, 1e4, -1e4, -1e4, 1e4, -1e4, 0.0])
    target = torch.tensor([1.0, 0.0, 0.0, 1.0, 0.5, 0.25, 1.0])
    got = impl.bce_with_logits(logits, target)
    expect(isinstance(got, torch.Tensor) and bool(torch.isfinite(got).all()),
           f"bce_with_logits with logits of magnitude 1e4 returned {got!r}; the loss is finite (a confident wrong "
           "answer costs about 1e4). σ(±1e4) rounds to exactly 0 or 1, so log σ or log(1 − σ) is −inf; and "
           "exp(1e4) overflows. Use max(ℓ, 0) − ℓ·y + log1p(exp(−|ℓ|)).")
    expect_scalar(got, oracle(logits, target), "bce_with_logits with logits of magnitude 1e4", atol=1e-2, rtol=1e-5,
                  hint="A confident wrong prediction must cost ≈ |ℓ| (here 1e4), not a clamped log(1e-7) ≈ 16. " + HINT)


def test_gradient_is_sigmoid_minus_target_over_count(impl):
    g = torch.Generator().manual_seed(2)
    logits = (5 * torch.randn(3, 4, generator=g)).requires_grad_()
    target = torch.rand(3, 4, generator=g)
    loss = impl.bce_with_logits(logits, target)
    expect(isinstance(loss, torch.Tensor) and loss.requires_grad,
           "bce_with_logits's result does not require grad — do not detach or use .item() inside the loss.")
    loss.backward()
    want = (torch.sigmoid(logits.detach().double()) - target.double()) / 12
    expect_close(logits.grad, want.float(), "∂bce_with_logits/∂logits", atol=1e-6,
                 hint="The gradient of the mean BCE is (σ(ℓ) − y) / N, N the number of elements.")


def test_keeps_float64(impl):
    logits, target = torch.randn(4, dtype=torch.float64), torch.rand(4, dtype=torch.float64)
    expect_scalar(impl.bce_with_logits(logits, target), oracle(logits, target), "bce_with_logits of float64 inputs",
                  atol=1e-10, rtol=1e-10, dtype=torch.float64, hint=HINT)


@given(st.lists(st.integers(1, 5), min_size=1, max_size=3), st.sampled_from([1.0, 10.0, 100.0, 1e4]),
       st.integers(0, 2**16))
def test_property_any_shape_and_scale(impl, shape, scale, seed):
    g = torch.Generator().manual_seed(seed)
    logits = scale * torch.randn(shape, generator=g)
    target = torch.rand(shape, generator=g)
    expect_scalar(impl.bce_with_logits(logits, target), oracle(logits, target),
                  f"bce_with_logits(logits of shape {tuple(shape)} × {scale:g})", atol=1e-4, rtol=1e-4, hint=HINT)
