"""cross-entropy: mean negative log-likelihood of integer targets under softmax(logits)."""
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_scalar, expect_unchanged

HINT = ("Per row: −log p_y = logsumexp(logits) − logits[y], with the max subtracted inside the logsumexp "
        "(per row); then the mean over the batch.")


def oracle(logits, target):
    return F.cross_entropy(logits.double(), target)


def test_matches_pytorch_on_random_logits(impl):
    g = torch.Generator().manual_seed(0)
    logits = 3 * torch.randn(6, 5, generator=g)
    target = torch.tensor([0, 4, 2, 2, 1, 3])
    before = logits.clone()
    got = impl.cross_entropy(logits, target)
    expect_scalar(got, oracle(before, target), "cross_entropy(logits (6, 5), target (6,))", atol=1e-5,
                  hint=HINT)
    expect_unchanged(before, logits, "the input logits")


def test_target_indexes_each_row(impl):
    # Every row picks a different column; logits[:, target] (a (B, B) matrix) or a shared index goes wrong.
    logits = torch.tensor([[2.0, 0.0, -1.0, 0.5], [0.0, 3.0, 1.0, -2.0], [1.0, 1.0, 1.0, 4.0]])
    target = torch.tensor([3, 0, 2])
    expect_scalar(impl.cross_entropy(logits, target), oracle(logits, target),
                  "cross_entropy with targets [3, 0, 2]", atol=1e-5,
                  hint="Take row b's logit at column target[b]: logits.gather(1, target[:, None]) or "
                       "logits[torch.arange(B), target].")


def test_mean_over_the_batch_not_the_sum(impl):
    logits = torch.zeros(8, 4)
    target = torch.zeros(8, dtype=torch.long)
    expect_scalar(impl.cross_entropy(logits, target), torch.log(torch.tensor(4.0)),
                  "cross_entropy of uniform logits over 4 classes, batch of 8", atol=1e-6,
                  hint="Uniform logits give −log(1/C) = log C per row; average over the batch, do not sum.")


def test_finite_and_correct_at_logits_of_magnitude_1e4(impl):
    logits = torch.tensor([[1e4, 0.0, -1e4], [1e4, 0.0, -1e4], [-1e4, -1e4, -1e4 + 3.0], [5e3, 5e3, 5e3]])
    target = torch.tensor([0, 2, 1, 1])
    got = impl.cross_entropy(logits, target)
    expect(isinstance(got, torch.Tensor) and bool(torch.isfinite(got).all()),
           f"cross_entropy with logits of magnitude 1e4 returned {got!r}; the loss is finite (row 2 costs 2e4). "
           "exp(1e4) overflows and softmax probabilities underflow to 0 (log 0 = −inf) in float32: compute "
           "logsumexp(logits) − logits[y] with the row max subtracted, never log(softmax(logits)).")
    expect_scalar(got, oracle(logits, target), "cross_entropy with logits of magnitude 1e4", atol=1e-2, rtol=1e-5,
                  hint=HINT)


def test_rows_with_very_different_scales(impl):
    logits = torch.tensor([[1e4, 1e4 - 2.0], [0.0, 1.0], [-1e4, -1e4 + 1.0]])
    target = torch.tensor([1, 0, 0])
    expect_scalar(impl.cross_entropy(logits, target), oracle(logits, target),
                  "cross_entropy of rows with very different magnitudes", atol=1e-4,
                  hint="Subtract each row's own max (amax over dim=-1, keepdim=True), not one max of the whole tensor.")


def test_gradient_is_softmax_minus_one_hot_over_batch(impl):
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(4, 6, generator=g, requires_grad=True)
    target = torch.tensor([5, 0, 3, 3])
    loss = impl.cross_entropy(logits, target)
    expect(isinstance(loss, torch.Tensor) and loss.requires_grad,
           "cross_entropy's result does not require grad — do not detach, use .item() or numpy inside the loss.")
    loss.backward()
    want = (torch.softmax(logits.detach().double(), -1) - F.one_hot(target, 6).double()) / 4
    expect_close(logits.grad, want.float(), "∂cross_entropy/∂logits", atol=1e-6,
                 hint="The gradient of the mean NLL is (softmax(logits) − one_hot(target)) / B.")


def test_keeps_float64(impl):
    logits = torch.randn(3, 4, dtype=torch.float64)
    target = torch.tensor([1, 3, 0])
    expect_scalar(impl.cross_entropy(logits, target), oracle(logits, target), "cross_entropy of float64 logits",
                  atol=1e-10, rtol=1e-10, dtype=torch.float64, hint=HINT)


@given(st.integers(1, 5), st.integers(1, 5), st.sampled_from([1.0, 10.0, 1000.0]), st.integers(0, 2**16))
def test_property_any_batch_and_class_count(impl, B, C, scale, seed):
    g = torch.Generator().manual_seed(seed)
    logits = scale * torch.randn(B, C, generator=g)
    target = torch.randint(0, C, (B,), generator=g)
    expect_scalar(impl.cross_entropy(logits, target), oracle(logits, target),
                  f"cross_entropy(logits ({B}, {C}) × {scale:g}, target {target.tolist()})", atol=1e-4, rtol=1e-5,
                  hint=HINT)
