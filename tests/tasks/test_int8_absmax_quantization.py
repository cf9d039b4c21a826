"""int8-absmax-quantization: scale = max|x| / 127 per slice along `dim`, q = round(x / scale) as int8.

The oracle is the closed form in float64. Where x / scale lies within 1e-3 of a rounding boundary (k + 1/2), a
correct float32 implementation may land on either side, so those entries are allowed to differ by one step.
"""
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.overrides import TorchFunctionMode

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor, expect_unchanged

HINT = ("scale = x.abs().amax(dim, keepdim=True) / 127 (one per slice, float32); q = torch.round(x / scale)"
        ".clamp(-127, 127).to(torch.int8); dequantize = q.float() * scale.")


def oracle(x, dim=-1):
    """Float64 closed form: (q as float64, scale float64, distance of x/scale to the nearest half-integer)."""
    x64 = x.double()
    scale = x64.abs().amax(dim=dim, keepdim=True) / 127
    ratio = x64 / torch.where(scale > 0, scale, torch.ones_like(scale))
    q = torch.round(ratio).clamp(-127, 127)
    to_half = (ratio - ratio.floor() - 0.5).abs()
    return q, scale, to_half


def quantize(impl, x, dim=None):
    x_in = x.clone()
    result = impl.quantize_absmax(x_in) if dim is None else impl.quantize_absmax(x_in, dim=dim)
    expect(isinstance(result, tuple) and len(result) == 2,
           f"quantize_absmax should return a tuple (q, scale), got {type(result).__name__}")
    expect_unchanged(x, x_in, "x passed to quantize_absmax")
    return result


def check_against_closed_form(impl, x, dim, what):
    q, scale = quantize(impl, x, dim)
    want_q, want_scale, to_half = oracle(x, -1 if dim is None else dim)
    expect_tensor(q, f"q from {what}", shape=tuple(x.shape), dtype=torch.int8)
    expect_tensor(scale, f"scale from {what}", shape=tuple(want_scale.shape), dtype=torch.float32)
    expect(bool(torch.isfinite(scale).all()),
           f"scale from {what} has non-finite entries {scale[~torch.isfinite(scale)].tolist()} — an all-zero slice "
           "needs a finite scale (0, or any stand-in such as 1), not 0 / 0.")
    nonzero = want_scale > 0  # an all-zero slice may carry any finite stand-in scale
    expect_close(torch.where(nonzero, scale, torch.zeros_like(scale)), want_scale.float(), f"scale from {what}",
                 atol=0.0, rtol=1e-6,
                 hint="scale = max |x| / 127 over `dim` only (one per slice, keepdim=True) — not over the whole "
                      "tensor, not max x (the absolute value matters), not / 128 or / 255.")
    diff = (q.double() - want_q).abs()
    far = to_half > 1e-3
    bad = (far & (diff > 0)) | (diff > 1)
    if bad.any():
        idx = tuple(int(i) for i in bad.nonzero()[0])
        expect(False, f"q from {what} is wrong at {int(bad.sum())} entries; at index {idx} got {int(q[idx])}, "
                      f"expected {int(want_q[idx])} (x = {x[idx].item():.6g}, x / scale = "
                      f"{(x[idx].double() / want_scale.expand_as(x)[idx]).item():.4f}) — round to the NEAREST "
                      "integer (torch.round), do not truncate with .to(torch.int8) or floor. " + HINT)


def test_matches_the_closed_form_per_row(impl):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(5, 16, generator=g) * torch.tensor([[0.01], [1.0], [30.0], [0.5], [2.0]])
    check_against_closed_form(impl, x, None, "quantize_absmax(x (5, 16)) with rows of very different sizes")


def test_round_half_to_even(impl):
    # max |x| = 127, so scale = 1 exactly and x / scale is exact: the halves are true ties.
    x = torch.tensor([[127.0, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.4, -3.6]])
    q, scale = quantize(impl, x)
    expect_tensor(q, "q from quantize_absmax on a row with max |x| = 127", shape=(1, 9), dtype=torch.int8)
    want = torch.tensor([[127, 0, 2, 2, 0, -2, -2, 3, -4]], dtype=torch.int8)
    expect(torch.equal(q, want),
           f"quantize_absmax([[127, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.4, -3.6]]) (scale exactly 1) gave q = "
           f"{q.tolist()}, expected {want.tolist()}: ties round half to EVEN as torch.round does (0.5 → 0, "
           "2.5 → 2, −1.5 → −2); floor(x + 0.5) or rounding half away from zero breaks ties the wrong way, and "
           ".to(torch.int8) alone truncates toward zero.")


def test_dequantization_error_is_at_most_half_a_step(impl):
    g = torch.Generator().manual_seed(1)
    x = 3 * torch.randn(6, 33, generator=g)
    q, scale = quantize(impl, x)
    deq = impl.dequantize(q, scale)
    expect_tensor(deq, "dequantize(q, scale)", shape=(6, 33), dtype=torch.float32)
    _, want_scale, _ = oracle(x)
    err = (deq.double() - x.double()).abs()
    allowed = (want_scale * (0.5 + 1e-4)).expand_as(err)  # half a step, plus float32 rounding
    worst = int((err - allowed).argmax())
    expect(bool((err <= allowed).all()),
           f"|dequantize(q, scale) − x| must be ≤ scale / 2 (round to nearest); at flat index {worst} the error is "
           f"{err.flatten()[worst].item():.4g} against a half-step of {allowed.flatten()[worst].item():.4g} — round "
           "(not truncate) and multiply back by the same scale (q * scale, not q / scale).")


def test_every_nonzero_row_uses_the_full_range(impl):
    g = torch.Generator().manual_seed(2)
    x = torch.randn(8, 10, generator=g) * torch.logspace(-3, 3, 8).unsqueeze(1)
    x[3] = -x[3].abs()  # a row of negative numbers: its extreme is its minimum
    q, _ = quantize(impl, x)
    expect_tensor(q, "q from quantize_absmax(x (8, 10))", shape=(8, 10), dtype=torch.int8)
    peak = q.to(torch.int32).abs().amax(dim=-1)
    expect(bool((peak == 127).all()),
           f"in every non-zero row the largest |q| must be exactly 127 (the absmax maps to ±127), got per-row "
           f"maxima {peak.tolist()} — take the max of |x| (not of x) per row and divide it by 127.")


class WatchNaNCasts(TorchFunctionMode):
    """Records any torch operation that turns a float tensor holding NaN into an integer tensor (e.g. .to(int8))."""

    def __init__(self):
        super().__init__()
        self.op = None

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        src = args[0] if args else None
        if (self.op is None and isinstance(out, torch.Tensor) and isinstance(src, torch.Tensor)
                and src.is_floating_point() and not out.is_floating_point() and out.dtype != torch.bool
                and bool(torch.isnan(src).any())):
            self.op = getattr(func, "__name__", str(func))
        return out


def test_all_zero_rows_give_zeros_and_no_nan(impl):
    x = torch.tensor([[0.0, 0.0, 0.0, 0.0], [1.0, -2.0, 0.5, 0.0], [0.0, 0.0, 0.0, 0.0]])
    watch = WatchNaNCasts()
    with watch:
        q, scale = quantize(impl, x)
    expect(watch.op is None,
           f"quantize_absmax on all-zero rows cast NaN to an integer type (in `{watch.op}`): with scale 0, x / scale "
           "is 0 / 0 = NaN, and what NaN becomes in int8 is undefined (0 on some machines only by accident). Guard "
           "the division, e.g. divide by torch.where(scale > 0, scale, 1).")
    expect_tensor(q, "q from quantize_absmax with all-zero rows", shape=(3, 4), dtype=torch.int8)
    expect_tensor(scale, "scale from quantize_absmax with all-zero rows", shape=(3, 1), dtype=torch.float32)
    expect(bool(torch.isfinite(scale).all()),
           f"scale must be finite for an all-zero row, got {scale.flatten().tolist()} — guard the 0 / 0 (e.g. "
           "divide by torch.where(scale > 0, scale, 1)).")
    expect(bool((q[[0, 2]] == 0).all()),
           f"an all-zero row must quantize to q = 0, got {q[[0, 2]].tolist()}")
    deq = impl.dequantize(q, scale)
    expect_close(deq[[0, 2]], torch.zeros(2, 4), "dequantize of the all-zero rows", atol=0.0, rtol=0.0,
                 hint="An all-zero row must come back as zeros, with no NaN.")
    check_against_closed_form(impl, x, None, "quantize_absmax with all-zero rows")


def test_per_slice_not_per_tensor(impl):
    x = torch.tensor([[100.0, -50.0, 25.0], [0.011, -0.02, 0.004]])
    q, scale = quantize(impl, x)
    expect_close(scale, torch.tensor([[100.0 / 127], [0.02 / 127]]), "scale from quantize_absmax on rows of "
                 "magnitude 100 and 0.02", atol=0.0, rtol=1e-6,
                 hint="One scale per row (reduce over `dim` only, keepdim=True); a single scale for the whole "
                      "tensor turns the small row into zeros.")
    expect(torch.equal(q[1], torch.tensor([70, -127, 25], dtype=torch.int8)),
           f"the small row [0.011, -0.02, 0.004] must quantize to [70, -127, 25] with its own scale, got "
           f"{q[1].tolist()}. {HINT}")


def test_dim_argument(impl):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(3, 4, 5, generator=g) * torch.tensor([0.1, 1.0, 10.0, 100.0]).view(1, 4, 1)
    for dim in (0, 1, -1):
        check_against_closed_form(impl, x, dim, f"quantize_absmax(x (3, 4, 5), dim={dim})")


def test_dequantize_multiplies_by_the_scale(impl):
    q = torch.tensor([[127, -64, 0, 3], [-127, 10, 1, -1]], dtype=torch.int8)
    scale = torch.tensor([[0.5], [0.02]])
    expect_close(impl.dequantize(q, scale), q.float() * scale, "dequantize(q (2, 4) int8, scale (2, 1))",
                 atol=1e-7, rtol=1e-6, hint="dequantize returns q.float() * scale (broadcast over the kept dim).")


def test_deterministic(impl):
    g = torch.Generator().manual_seed(4)
    x = torch.randn(4, 7, generator=g)
    expect_deterministic(impl.quantize_absmax, x, what="quantize_absmax(x (4, 7))")


@given(st.lists(st.integers(1, 5), min_size=1, max_size=3), st.floats(-4, 4), st.integers(0, 2**16))
def test_property_any_shape_and_magnitude(impl, shape, log_mag, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(*shape, generator=g) * 10 ** log_mag
    check_against_closed_form(impl, x, None, f"quantize_absmax(x of shape {tuple(shape)}, magnitude 1e{log_mag:.1f})")
    q, scale = impl.quantize_absmax(x)
    err = (impl.dequantize(q, scale).double() - x.double()).abs()
    expect(bool((err <= scale.double() * (0.5 + 1e-4)).all()),
           f"|dequantize − x| exceeds scale / 2 for x of shape {tuple(shape)}. {HINT}")
