"""stable-softmax: softmax(x, dim=-1), checked against torch.softmax."""
import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor, expect_unchanged

HINT = "Subtract the max along `dim` before exponentiating, and normalize along `dim` only."


def rtol_for(x):
    """Relative tolerance that any correct implementation meets in x's dtype.

    A value v of magnitude M is stored with a rounding error of up to eps·M/2, so the log-probabilities
    x_i − logsumexp(x) of a correct float32 implementation (max-shift or `exp(x - logsumexp(x))`) carry an
    absolute error of order eps·max|x|, i.e. a relative error of the probabilities of that size: 4e-4 at
    |x| = 1e4. Measured worst case over many inputs: 0.5·eps·max|x|; we allow 2·eps·max|x| on top of 1e-5.
    """
    return 1e-5 + 2 * torch.finfo(x.dtype).eps * x.abs().max().item()


@st.composite
def shaped_input(draw):
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    scale = draw(st.sampled_from([1.0, 10.0, 100.0]))
    seed = draw(st.integers(0, 2**16))
    x = torch.randn(shape, generator=torch.Generator().manual_seed(seed)) * scale
    return x, dim


@given(shaped_input())
def test_matches_torch_softmax_on_any_shape_and_dim(impl, case):
    x, dim = case
    expected = torch.softmax(x.double(), dim=dim).float()
    expect_close(impl.softmax(x.clone(), dim=dim), expected, f"softmax(x of shape {tuple(x.shape)}, dim={dim})",
                 atol=1e-6, rtol=rtol_for(x), hint=HINT)


def test_default_dim_is_the_last_one(impl):
    x = torch.randn(3, 4)
    out = expect_deterministic(impl.softmax, x, what="softmax(x)")
    expect_close(out, torch.softmax(x.double(), dim=-1).float(), "softmax(x) with the default dim",
                 atol=1e-6, hint="The default is dim=-1: each row sums to 1.")


def test_large_inputs_stay_finite_and_correct(impl):
    x = torch.tensor([[1e4, 0.0, -1e4], [-1e4, -1e4 + 1.0, -1e4 + 2.0], [5e3, 5e3, 5e3]])
    out = impl.softmax(x, dim=-1)
    expect_tensor(out, "softmax(x) with entries of magnitude 1e4", shape=(3, 3), dtype=torch.float32)
    expect(bool(torch.isfinite(out).all()),
           f"softmax(x) with entries of magnitude 1e4 returned NaN or inf: {out.tolist()} — exp(1e4) overflows "
           "in float32; subtract the row max first (it changes nothing mathematically).")
    expect_close(out, torch.softmax(x.double(), dim=-1).float(), "softmax(x) for |x| up to 1e4", atol=1e-6,
                 rtol=rtol_for(x), hint=HINT)


def test_rows_with_very_different_scales(impl):
    # A single global max would send the second row to exp(-1e4) = 0 everywhere: 0/0.
    x = torch.tensor([[1e4, 1e4 - 1.0], [0.0, 1.0]])
    expect_close(impl.softmax(x, dim=-1), torch.softmax(x.double(), dim=-1).float(),
                 "softmax of rows with very different magnitudes", atol=1e-6, rtol=rtol_for(x),
                 hint="Take the max per row (along `dim`, keepdim=True), not over the whole tensor.")


@given(st.floats(-1e3, 1e3), st.integers(0, 2**16))
def test_invariant_to_adding_a_constant(impl, c, seed):
    x = torch.randn(4, 6, generator=torch.Generator().manual_seed(seed))
    shifted = x + c  # rounded to float32: its exact softmax differs from softmax(x) by up to eps·|c| (relative)
    out = impl.softmax(shifted, dim=-1)
    expect_close(out, torch.softmax(shifted.double(), dim=-1).float(), f"softmax(x + {c:.3g})", atol=1e-6,
                 rtol=rtol_for(shifted), hint=HINT)
    expect_close(out, impl.softmax(x, dim=-1).detach(), f"softmax(x + {c:.3g}) vs softmax(x)", atol=1e-6,
                 rtol=2 * rtol_for(shifted),
                 hint="softmax(x + c) must equal softmax(x); a naive exp overflows or loses precision.")


def test_logsumexp_form_is_as_accurate_as_float32_allows(impl):
    # Rows far from 0 (|x| up to 5e4) with O(1) spreads: the probabilities are well spread, and any correct float32
    # form — x − max then exp and normalize, or exp(x − logsumexp(x)) — lands within ~eps·max|x| of the truth.
    g = torch.Generator().manual_seed(3)
    offsets = torch.tensor([[1e4], [-1e4], [5e4], [-3e4], [2.5e3]])
    x = offsets + 2 * torch.randn(5, 7, generator=g)
    out = impl.softmax(x, dim=-1)
    expect_tensor(out, "softmax(x) for rows offset by up to 5e4", shape=(5, 7), dtype=torch.float32)
    expect_close(out, torch.softmax(x.double(), dim=-1).float(), "softmax(x) for rows offset by up to 5e4",
                 atol=1e-6, rtol=rtol_for(x),
                 hint="Beyond float32's own rounding of a number of size |x| (relative error ~1e-7·|x|), the result "
                      "must be exact: shift by the row max (or subtract logsumexp along `dim`) and normalize along "
                      "`dim` — no float16/bfloat16 arithmetic, no approximations of exp.")


def test_keeps_dtype_and_does_not_modify_the_input(impl):
    x = torch.randn(2, 3, 5, dtype=torch.float64)
    before = x.clone()
    out = impl.softmax(x, dim=1)
    expect_close(out, torch.softmax(before, dim=1), "softmax(float64 x, dim=1)", atol=1e-12, rtol=1e-10, hint=HINT)
    expect_unchanged(before, x, "the input x")
