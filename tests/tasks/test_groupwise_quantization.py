"""groupwise-quantization: asymmetric min–max quantization per group of consecutive input columns.

The oracle is the closed form in float64 with an explicit loop over groups. Where w / scale or −min / scale lies
within 1e-3 + 1e-6·|value| of a rounding boundary (float32 rounding grows with the ratio, large when a group's range
is tiny next to its values) a correct float32 implementation may round either way, so those codes (and whole groups
whose zero point is that close) may differ by one step; the test data keeps such cases rare.
"""
import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor, expect_unchanged

HINT = ("Per row, groups of group_size CONSECUTIVE input columns (w.reshape(out, in // group_size, group_size)); "
        "per group scale = (max − min) / (2**bits − 1), zero = round(−min / scale), q = clamp(round(w / scale) + "
        "zero, 0, 2**bits − 1) as uint8; dequantize (q − zero) · scale.")


def oracle(w, group_size, bits):
    """Float64 loop over groups: q, scale, zero (float64) and a mask of codes near a rounding boundary."""
    n_out, n_in = w.shape
    levels = 2 ** bits - 1
    w64 = w.double()
    q = torch.zeros(n_out, n_in, dtype=torch.float64)
    near = torch.zeros(n_out, n_in, dtype=torch.bool)
    scale = torch.zeros(n_out, n_in // group_size, dtype=torch.float64)
    zero = torch.zeros_like(scale)
    for o in range(n_out):
        for j in range(n_in // group_size):
            cols = slice(j * group_size, (j + 1) * group_size)
            lo, hi = w64[o, cols].min(), w64[o, cols].max()
            s = (hi - lo) / levels
            scale[o, j] = s
            if s == 0:
                continue  # constant group: stand-in scale of the implementation's choice
            z_real = -lo / s
            zero[o, j] = torch.round(z_real)
            ratio = w64[o, cols] / s
            q[o, cols] = (torch.round(ratio) + zero[o, j]).clamp(0, levels)
            # float32 computes w / scale with a relative error of a few 1e-7, which matters when |w| ≫ max − min
            z_near = abs(z_real - torch.floor(z_real) - 0.5) < 1e-3 + 1e-6 * abs(z_real)
            near[o, cols] = ((ratio - ratio.floor() - 0.5).abs() < 1e-3 + 1e-6 * ratio.abs()) | z_near
    return q, scale, zero, near


def quantize(impl, w, group_size, bits=None):
    w_in = w.clone()
    result = (impl.quantize_groupwise(w_in, group_size) if bits is None
              else impl.quantize_groupwise(w_in, group_size, bits=bits))
    expect(isinstance(result, tuple) and len(result) == 3,
           f"quantize_groupwise should return a tuple (q, scale, zero), got {type(result).__name__}")
    expect_unchanged(w, w_in, "w passed to quantize_groupwise")
    return result


def check_closed_form(impl, w, group_size, bits, what):
    q, scale, zero = quantize(impl, w, group_size, bits)
    want_q, want_scale, want_zero, near = oracle(w, group_size, 4 if bits is None else bits)
    n_out, n_in = w.shape
    expect_tensor(q, f"q from {what}", shape=(n_out, n_in), dtype=torch.uint8)
    expect_tensor(scale, f"scale from {what}", shape=(n_out, n_in // group_size), dtype=torch.float32)
    expect_tensor(zero, f"zero from {what}", shape=(n_out, n_in // group_size))
    expect_close(scale, want_scale.float(), f"scale from {what}", atol=0.0, rtol=1e-6,
                 hint="scale = (max − min) / (2**bits − 1): 2**bits levels have 2**bits − 1 steps between them. "
                      + HINT)
    zero_near = near.reshape(n_out, n_in // group_size, group_size).any(-1)
    zero_bad = ((zero.double() - want_zero).abs() > 0) & ~zero_near
    if zero_bad.any():
        idx = tuple(int(i) for i in zero_bad.nonzero()[0])
        expect(False, f"zero from {what} is wrong at group {idx}: got {zero[idx].item():g}, expected "
                      f"{want_zero[idx].item():g} = round(−min / scale) — the zero point is NOT clamped to "
                      "[0, 2**bits − 1] and may be negative (store it in a signed or float dtype, not uint8).")
    diff = (q.double() - want_q).abs()
    bad = (diff > 0) & ~near | (diff > 1)
    if bad.any():
        idx = tuple(int(i) for i in bad.nonzero()[0])
        expect(False, f"q from {what} is wrong at {int(bad.sum())} of {q.numel()} entries; at index {idx} got "
                      f"{int(q[idx])}, expected {int(want_q[idx])} (w = {w[idx].item():.6g}). {HINT}")
    return q, scale, zero


def test_matches_the_closed_form_4_bits(impl):
    g = torch.Generator().manual_seed(0)
    w = torch.randn(4, 32, generator=g)
    check_closed_form(impl, w, 8, None, "quantize_groupwise(w (4, 32), group_size=8) with the default bits=4")


def test_bits_2_4_8(impl):
    g = torch.Generator().manual_seed(1)
    w = 0.2 * torch.randn(3, 24, generator=g) + 0.05
    for bits in (2, 4, 8):
        what = f"quantize_groupwise(w (3, 24), group_size=6, bits={bits})"
        q, _, _ = check_closed_form(impl, w, 6, bits, what)
        groups = q.to(torch.int32).reshape(3, 4, 6)
        expect(bool((groups.amin(-1) == 0).all()) and bool((groups.amax(-1) == 2 ** bits - 1).all()),
               f"{what}: every group's codes must span 0 … {2 ** bits - 1} (its min maps to 0, its max to "
               f"2**bits − 1), got per-group minima {groups.amin(-1).tolist()} and maxima {groups.amax(-1).tolist()}.")


def test_groups_are_consecutive_input_columns(impl):
    # Columns 0-3 are tiny, 4-7 large, 8-11 tiny again: each block of 4 consecutive columns is one group.
    w = torch.tensor([[0.01, -0.02, 0.015, 0.0, 5.0, -3.0, 2.0, 1.0, 0.1, 0.3, -0.2, 0.25],
                      [1.0, 2.0, 3.0, 4.5, -10.0, 10.0, 0.5, 0.7, -0.01, 0.01, 0.0, 0.005]])
    _, scale, _ = check_closed_form(impl, w, 4, 4, "quantize_groupwise(w (2, 12), group_size=4)")
    want = torch.tensor([[0.035, 8.0, 0.5], [3.5, 20.0, 0.02]]) / 15
    expect_close(scale, want, "scale from quantize_groupwise(w (2, 12), group_size=4)", atol=0.0, rtol=1e-5,
                 hint="Group j of a row is columns 4j … 4j + 3 (reshape to (out, in // group_size, group_size)); "
                      "not every (in // group_size)-th column, and not groups of rows.")


def test_round_trip_error_is_at_most_half_a_step(impl):
    g = torch.Generator().manual_seed(2)
    w = torch.randn(5, 48, generator=g) * torch.logspace(-2, 1, 5).unsqueeze(1)
    for bits in (2, 4, 8):
        q, scale, zero = quantize(impl, w, 16, bits)
        deq = impl.dequantize_groupwise(q, scale, zero, 16)
        what = f"dequantize_groupwise(quantize_groupwise(w (5, 48), 16, bits={bits}))"
        expect_tensor(deq, what, shape=(5, 48), dtype=torch.float32)
        _, want_scale, _, _ = oracle(w, 16, bits)
        step = want_scale.repeat_interleave(16, dim=1)
        err = (deq.double() - w.double()).abs()
        allowed = step * (0.5 + 1e-4) + 1e-6 * w.double().abs()
        worst = int((err - allowed).argmax())
        expect(bool((err <= allowed).all()),
               f"{what}: the error at flat index {worst} is {err.flatten()[worst].item():.4g}, more than half a step "
               f"({step.flatten()[worst].item() / 2:.4g}) — round w / scale to the nearest integer, add the zero "
               "point once, and dequantize with (q − zero) · scale of the same group. " + HINT)


def test_zero_point_may_lie_outside_the_code_range(impl):
    # Groups entirely above or below 0: −min / scale is far outside [0, 15].
    w = torch.tensor([[5.0, 5.3, 5.9, 6.0, -8.0, -7.1, -7.5, -7.0]])
    q, scale, zero = check_closed_form(impl, w, 4, 4, "quantize_groupwise on groups in [5, 6] and [-8, -7]")
    deq = impl.dequantize_groupwise(q, scale, zero, 4)
    expect_close(deq, w, "round trip of groups in [5, 6] and [-8, -7] (4 bits)", atol=1 / 30 + 1e-5, rtol=0.0,
                 hint="zero = round(−min / scale) is −75 and 120 here: keep it as computed (signed or float dtype), "
                      "do not clamp it into [0, 15] or store it as uint8.")


def test_constant_groups_dequantize_to_their_value(impl):
    w = torch.tensor([[0.7, 0.7, 0.7, 0.7, 1.0, 2.0, 3.0, 4.0],
                      [0.0, 0.0, 0.0, 0.0, -3.2, -3.2, -3.2, -3.2],
                      [123.456, 123.456, 123.456, 123.456, -0.3, 0.3, 0.1, 0.2]])
    q, scale, zero = quantize(impl, w, 4, 4)
    expect_tensor(q, "q from quantize_groupwise with constant groups", shape=(3, 8), dtype=torch.uint8)
    expect_tensor(scale, "scale from quantize_groupwise with constant groups", shape=(3, 2), dtype=torch.float32)
    expect(bool(torch.isfinite(scale).all()) and bool(torch.isfinite(zero.double()).all()),
           f"scale and zero must be finite for constant groups (max = min), got scale {scale.tolist()} and zero "
           f"{zero.tolist()} — (max − min) / 15 is 0 there, and −min / 0 is ±inf or NaN: choose a stand-in scale.")
    deq = impl.dequantize_groupwise(q, scale, zero, 4)
    expect_tensor(deq, "dequantize_groupwise on constant groups", shape=(3, 8), dtype=torch.float32)
    constant = torch.stack([deq[0, :4], deq[1, 4:], deq[2, :4], deq[1, :4]])  # the groups 0.7, −3.2, 123.456, 0
    want = torch.tensor([0.7, -3.2, 123.456, 0.0]).unsqueeze(1).expand(4, 4)
    expect_close(constant, want, "dequantize_groupwise(quantize_groupwise(w)) on the constant groups 0.7, −3.2, "
                 "123.456 and 0", atol=1e-6, rtol=1e-6,
                 hint="A constant group must come back as its value. With a stand-in scale of 1, round(c) + round(−c) "
                      "= 0 gives q = 0 and (0 − zero) · 1 = round(c), not c; pick a stand-in such that c / scale is an "
                      "integer, e.g. scale = |c| (and 1 for c = 0).")


def test_dequantize_against_a_loop(impl):
    g = torch.Generator().manual_seed(3)
    q = torch.randint(0, 16, (3, 12), generator=g).to(torch.uint8)
    scale = torch.rand(3, 4, generator=g) + 0.1
    zero = torch.tensor([[3.0, -7.0, 20.0, 0.0], [15.0, 8.0, -1.0, 4.0], [0.0, 0.0, 30.0, -30.0]])
    want = torch.zeros(3, 12, dtype=torch.float64)
    for o in range(3):
        for i in range(12):
            want[o, i] = (int(q[o, i]) - zero[o, i // 3].item()) * scale[o, i // 3].item()
    got = impl.dequantize_groupwise(q, scale, zero, 3)
    expect_close(got, want.float(), "dequantize_groupwise(q (3, 12), scale (3, 4), zero (3, 4) with negative "
                 "entries, group_size=3)", atol=1e-5, rtol=1e-6,
                 hint="Element (o, i) uses group i // group_size of row o: (q − zero) · scale. Convert q to float "
                      "BEFORE subtracting (uint8 arithmetic wraps around below 0).")


def test_deterministic(impl):
    g = torch.Generator().manual_seed(4)
    w = torch.randn(2, 8, generator=g)
    expect_deterministic(impl.quantize_groupwise, w, 4, what="quantize_groupwise(w (2, 8), 4)")


@given(st.integers(1, 4), st.integers(1, 4), st.sampled_from([2, 4, 8]), st.sampled_from([2, 4, 8]),
       st.integers(0, 2**16))
def test_property_shapes_and_bits(impl, n_out, n_groups, group_size, bits, seed):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(n_out, n_groups * group_size, generator=g)
    what = f"quantize_groupwise(w {tuple(w.shape)}, group_size={group_size}, bits={bits})"
    q, scale, zero = check_closed_form(impl, w, group_size, bits, what)
    deq = impl.dequantize_groupwise(q, scale, zero, group_size)
    step = scale.double().repeat_interleave(group_size, dim=1)
    expect(bool(((deq.double() - w.double()).abs() <= step * (0.5 + 1e-4) + 1e-6).all()),
           f"round trip of {what} is off by more than half a step. {HINT}")
