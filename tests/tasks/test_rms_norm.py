"""rms-norm: x / √(mean(x², dim=-1) + eps) · weight over the last dim, against F.rms_norm (float64)."""
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor

FORMULA = "rms_norm(x, weight, eps) = x / √(mean(x², dim=-1) + eps) · weight"


def oracle(x, weight, eps=1e-6):
    """torch's own RMSNorm in float64; eps passed explicitly (F.rms_norm's default eps is not 1e-6)."""
    return F.rms_norm(x.double(), (x.size(-1),), weight.double(), eps).float()


def call(impl, x, weight, eps=None):
    return impl.rms_norm(x, weight) if eps is None else impl.rms_norm(x, weight, eps)


def test_matches_pytorch_rms_norm(impl):
    g = torch.Generator().manual_seed(0)
    x = 2 * torch.randn(2, 5, 8, generator=g)
    weight = torch.randn(8, generator=g)
    got = call(impl, x, weight)
    expect_tensor(got, "rms_norm(x (2, 5, 8), weight (8,))", shape=(2, 5, 8), dtype=torch.float32)
    expect_close(got, oracle(x, weight), "rms_norm(x (2, 5, 8), weight (8,)) vs F.rms_norm(..., eps=1e-6)",
                 atol=1e-5, rtol=1e-4, hint=diagnose(x, weight, got) + f"{FORMULA}, over the LAST dim with keepdim=True.")


def diagnose(x, weight, got):
    """Name the usual mistake when the output matches one of them (closed forms in float64)."""
    xd, wd = x.double(), weight.double()
    centred = xd - xd.mean(-1, keepdim=True)
    candidates = {
        "the SUM of squares (a row norm) instead of their mean": xd / (xd.pow(2).sum(-1, keepdim=True) + 1e-6).sqrt(),
        "the mean subtracted first (that is LayerNorm)": centred / (centred.pow(2).mean(-1, keepdim=True) + 1e-6).sqrt(),
        "the mean of squares taken over dim 0 (the batch) instead of the last dim":
            xd / (xd.pow(2).mean(0, keepdim=True) + 1e-6).sqrt(),
    }
    for name, val in candidates.items():
        if torch.allclose(got.double(), val * wd, atol=1e-4, rtol=1e-3):
            return f"Your output matches the formula with {name}. "
    return ""


def test_mean_of_squares_not_sum(impl):
    # Rows of length 16: dividing by √(sum) instead of √(mean) shrinks the output by exactly 4.
    g = torch.Generator().manual_seed(1)
    x = torch.randn(3, 16, generator=g)
    got = call(impl, x, torch.ones(16))
    expect_close(got, oracle(x, torch.ones(16)), "rms_norm(x (3, 16), ones)", atol=1e-5,
                 hint="Use the MEAN of the squares, x.pow(2).mean(-1, keepdim=True), not the sum: with d = 16 the "
                      "sum makes the output 4 times too small.")
    rms = got.double().pow(2).mean(-1).sqrt()
    expect(bool(((rms - 1).abs() < 1e-4).all()),
           f"with weight 1 every output row must have root mean square 1; got {rms.tolist()} — divide by the root "
           "of the MEAN of squares (a row norm ‖x‖ would give 1/√d).")


def test_eps_goes_inside_the_square_root(impl):
    # Rows with mean(x²) ~ 1e-4 and eps = 1e-2: eps dominates, and √(ms + eps) differs from √ms + eps.
    g = torch.Generator().manual_seed(2)
    x = 1e-2 * torch.randn(4, 6, generator=g)
    weight = torch.randn(6, generator=g)
    for eps in (1e-2, 1e-3):
        expect_close(call(impl, x, weight, eps), oracle(x, weight, eps),
                     f"rms_norm on rows with RMS ~0.01, eps={eps}", atol=1e-5, rtol=1e-4,
                     hint="eps goes INSIDE the square root: x / √(mean(x²) + eps), not x / (√mean(x²) + eps); "
                          "and use the eps argument, not a hard-coded constant.")


def test_default_eps_is_1e_minus_6(impl):
    # With mean(x²) = 1e-6 the default eps doubles the denominator: 1e-5 or 1e-8 would show.
    x = torch.full((2, 4), 1e-3)
    x[1] = torch.tensor([1e-3, -1e-3, 1e-3, -1e-3])
    got = impl.rms_norm(x, torch.ones(4))
    expect_close(got, oracle(x, torch.ones(4), 1e-6), "rms_norm(x, ones) with the default eps on rows with "
                 "mean(x²) = 1e-6", atol=1e-5, rtol=1e-4,
                 hint="The default is eps=1e-6 (the task's contract), not LayerNorm's 1e-5 and not F.rms_norm's machine epsilon.")


def test_no_mean_subtraction_differs_from_layer_norm(impl):
    # Rows far from zero mean: LayerNorm centres them, RMSNorm must not.
    g = torch.Generator().manual_seed(3)
    x = torch.randn(3, 8, generator=g) + 5.0
    got = call(impl, x, torch.ones(8))
    expect_close(got, oracle(x, torch.ones(8)), "rms_norm on rows with mean ≈ 5 (shifted inputs)", atol=1e-5,
                 hint="RMSNorm does NOT subtract the mean (that is LayerNorm): divide x itself by its root mean square.")
    expect(bool((got > 0).all()),
           "rms_norm of rows whose entries are all positive must stay all positive (it only rescales); "
           f"got negative entries {got[got <= 0][:4].tolist()} — are you subtracting the mean?")


def test_weight_multiplies_each_feature(impl):
    g = torch.Generator().manual_seed(4)
    x = torch.randn(5, 6, generator=g)
    weight = torch.tensor([0.5, -1.0, 2.0, 0.0, 3.0, -0.25])
    expect_close(call(impl, x, weight), oracle(x, weight), "rms_norm(x (5, 6), weight with mixed signs)",
                 atol=1e-5, hint="Multiply the normalized x elementwise by weight (shape (d,), broadcast over the "
                                 "last dim); there is no bias and weight is not inside the root.")


def test_scale_invariance(impl):
    # Where mean(x²) ≫ eps, rms_norm(c·x) = rms_norm(x) for any c > 0.
    g = torch.Generator().manual_seed(5)
    x = torch.randn(4, 10, generator=g)
    weight = torch.randn(10, generator=g)
    base = call(impl, x, weight)
    for c in (0.5, 30.0, 1e3):
        expect_close(call(impl, c * x, weight), base, f"rms_norm({c:g}·x) vs rms_norm(x)", atol=1e-4, rtol=1e-4,
                     hint="RMSNorm is invariant to rescaling its input (when mean(x²) ≫ eps); a result that "
                          "changes with the scale means you are not dividing by the root mean square.")


def test_deterministic_and_inputs_unchanged(impl):
    g = torch.Generator().manual_seed(6)
    x, weight = torch.randn(2, 3, 4, generator=g), torch.randn(4, generator=g)
    before = (x.clone(), weight.clone())
    expect_deterministic(impl.rms_norm, x, weight, what="rms_norm(x (2, 3, 4), weight)")
    call(impl, x, weight)
    expect(torch.equal(before[0], x) and torch.equal(before[1], weight),
           "rms_norm modified x or weight in place; use out-of-place ops (x * r, not x.mul_(r)).")


@given(st.lists(st.integers(1, 4), min_size=0, max_size=2), st.integers(1, 6), st.integers(0, 2**16))
def test_property_any_shape(impl, batch, d, seed):
    g = torch.Generator().manual_seed(seed)
    x = 2 * torch.randn(*batch, d, generator=g)
    weight = torch.randn(d, generator=g)
    expect_close(call(impl, x, weight), oracle(x, weight), f"rms_norm on x of shape {tuple(x.shape)}",
                 atol=1e-4, rtol=1e-3, hint=f"{FORMULA}, over the last dim only.")
