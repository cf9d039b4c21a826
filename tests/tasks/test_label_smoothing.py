"""label-smoothing: cross-entropy against (1 − s)·onehot + s/C, mean over the targets that are not ignore_index."""
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_scalar

HINT = ("Per row: (1 − s)·(−log p_y) + (s/C)·Σ_k (−log p_k) with log p = log_softmax(logits, -1); the s/C goes to "
        "all C classes, the true one included. Then average over the rows whose target is not ignore_index.")


def oracle(logits, target, s, ignore_index=-100):
    return F.cross_entropy(logits.double(), target, label_smoothing=s, ignore_index=ignore_index).float()


def closed_form(logits, target, s, ignore_index=-100):
    """The smoothed target written out as a dense (N, C) distribution, in float64."""
    n, c = logits.shape
    log_p = logits.double().log_softmax(-1)
    total, count = torch.zeros((), dtype=torch.float64), 0
    for i in range(n):
        if int(target[i]) == ignore_index:
            continue
        q = torch.full((c,), s / c, dtype=torch.float64)
        q[int(target[i])] += 1 - s
        total = total - (q * log_p[i]).sum()
        count += 1
    return (total / count).float()


def draw(seed, n=7, c=5, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(n, c, generator=g), torch.randint(0, c, (n,), generator=g)


def test_matches_pytorch_label_smoothing(impl):
    for seed, s in ((0, 0.1), (1, 0.3), (2, 0.05)):
        logits, target = draw(seed)
        what = f"smoothed_cross_entropy(logits (7, 5), target, smoothing={s})"
        got = impl.smoothed_cross_entropy(logits, target, smoothing=s)
        expect_scalar(got, oracle(logits, target, s), what, atol=1e-5, rtol=1e-5, hint=HINT)


def test_equals_the_written_out_soft_target(impl):
    logits, target = draw(3, n=6, c=4)
    expect_scalar(impl.smoothed_cross_entropy(logits, target, smoothing=0.4), closed_form(logits, target, 0.4),
                  "smoothed_cross_entropy(smoothing=0.4) vs −Σ_k q_k log p_k with q = 0.6·onehot + 0.4/4",
                  atol=1e-5, rtol=1e-5,
                  hint="The smoothing mass s is spread as s/C over ALL C classes (the true class gets 1 − s + s/C), "
                       "not s/(C − 1) over the other classes only.")


def test_default_smoothing_is_0_1(impl):
    logits, target = draw(4)
    expect_scalar(impl.smoothed_cross_entropy(logits, target), oracle(logits, target, 0.1),
                  "smoothed_cross_entropy(logits, target) with the default smoothing", atol=1e-5, rtol=1e-5,
                  hint="The default is smoothing=0.1.")


def test_zero_smoothing_is_plain_cross_entropy(impl):
    logits, target = draw(5, n=9, c=6)
    want = F.cross_entropy(logits.double(), target).float()
    expect_scalar(impl.smoothed_cross_entropy(logits, target, smoothing=0.0), want,
                  "smoothed_cross_entropy(smoothing=0.0) vs plain cross-entropy", atol=1e-5, rtol=1e-5,
                  hint="With s = 0 the target is the one-hot vector and the loss is the mean of −log p_y; "
                       "the true class must get weight 1 − s (here 1).")


def test_ignored_targets_are_excluded_from_the_mean(impl):
    logits, target = draw(6, n=8, c=5)
    target[[1, 4, 5]] = -100
    got = impl.smoothed_cross_entropy(logits, target, smoothing=0.2)
    expect_scalar(got, oracle(logits, target, 0.2), "smoothed_cross_entropy with 3 of 8 targets = -100", atol=1e-5,
                  rtol=1e-5,
                  hint="Rows with target == ignore_index contribute nothing, neither their −log p_y nor their "
                       "smoothing term, and the mean divides by the number of kept rows (5), not by N (8).")
    # Changing the logits of ignored rows must not change anything.
    other = logits.clone()
    other[[1, 4, 5]] = 50 * torch.randn(3, 5, generator=torch.Generator().manual_seed(7))
    expect_scalar(impl.smoothed_cross_entropy(other, target, smoothing=0.2), oracle(logits, target, 0.2),
                  "smoothed_cross_entropy after changing only the logits of the ignored rows", atol=1e-5, rtol=1e-5,
                  hint="An ignored row must not enter the loss at all — also not through the uniform (s/C) term.")


def test_custom_ignore_index_that_is_a_class_id(impl):
    logits, target = draw(8, n=10, c=4)
    target[:4] = torch.tensor([2, 0, 2, 1])
    for ignore in (2, -1):
        expect_scalar(impl.smoothed_cross_entropy(logits, target, smoothing=0.1, ignore_index=ignore),
                      oracle(logits, target, 0.1, ignore_index=ignore),
                      f"smoothed_cross_entropy(..., ignore_index={ignore})", atol=1e-5, rtol=1e-5,
                      hint="Compare the targets with the ignore_index argument, not with the constant -100.")


def test_gradient_is_p_minus_q_over_kept_rows(impl):
    logits, target = draw(9, n=6, c=5)
    target[2] = -100
    x = logits.clone().requires_grad_(True)
    impl.smoothed_cross_entropy(x, target, smoothing=0.3).backward()
    expect(x.grad is not None, "no gradient reached the logits — build the loss from torch ops on the logits "
           "(no .item(), .detach() or numpy).")
    ref = logits.double().clone().requires_grad_(True)
    F.cross_entropy(ref, target, label_smoothing=0.3).backward()
    expect_close(x.grad, ref.grad.float(), "d loss / d logits of smoothed_cross_entropy(smoothing=0.3)", atol=1e-6,
                 hint="The gradient of each kept row is (softmax − q)/n_kept, and 0 for the ignored row.")


def test_stable_for_huge_logits(impl):
    logits = torch.tensor([[1e4, -1e4, 0.0, 5e3], [-1e4, -1e4, 1e4, 1e4 - 3.0], [2.0, -1e4, 1e4, -5e3]])
    target = torch.tensor([0, 3, 1])
    got = impl.smoothed_cross_entropy(logits, target, smoothing=0.1)
    expect_scalar(got, oracle(logits, target, 0.1), "smoothed_cross_entropy on logits of magnitude 1e4", atol=1e-3,
                  rtol=1e-5,
                  hint="softmax underflows to exactly 0 here and log(0) = −inf; take log_softmax (x − logsumexp(x)) "
                       "instead of log(softmax(x)).")


def test_returns_a_scalar_and_keeps_inputs(impl):
    logits, target = draw(10)
    target[0] = -100
    before = (logits.clone(), target.clone())
    got = expect_deterministic(impl.smoothed_cross_entropy, logits, target, 0.2,
                               what="smoothed_cross_entropy(logits, target, 0.2)")
    expect_scalar(got, oracle(logits, target, 0.2), "smoothed_cross_entropy(logits, target, 0.2)", atol=1e-5,
                  rtol=1e-5, hint=HINT)
    expect(torch.equal(logits, before[0]) and torch.equal(target, before[1]),
           "smoothed_cross_entropy modified logits or target in place (e.g. target[target == -100] = 0); "
           "work on copies or use torch.where.")


@given(st.integers(1, 5), st.integers(2, 5), st.floats(0.0, 0.9), st.integers(0, 2**16))
def test_property_random_shapes_and_smoothing(impl, n, c, s, seed):
    g = torch.Generator().manual_seed(seed)
    logits = 4 * torch.randn(n, c, generator=g)
    target = torch.randint(0, c, (n,), generator=g)
    if n > 1:
        target[0] = -100  # at least one kept row remains
    expect_scalar(impl.smoothed_cross_entropy(logits, target, smoothing=s), oracle(logits, target, s),
                  f"smoothed_cross_entropy on logits {tuple(logits.shape)}, smoothing={s:.3g}", atol=1e-4, rtol=1e-4,
                  hint=HINT)
