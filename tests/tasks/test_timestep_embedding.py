"""timestep-embedding: [cos(t·f), sin(t·f)] with f_i = max_period^(−i/half), cosines first, zero column for odd dim.

The oracle evaluates the closed form entry by entry in float64 with the `math` module.
"""
import math

import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor, expect_unchanged

HINT = ("With half = dim // 2 and f_i = exp(−ln(max_period)·i/half), i = 0…half−1: "
        "emb = cat([cos(t[:, None]·f), sin(t[:, None]·f)], dim=-1) — all cosines first, then all sines — "
        "plus one zero column at the end when dim is odd.")

# float32 rounds t·f_i (|t·f| ≤ 1000) to ~6e-5 and f_i itself to ~1e-7 relative: sin/cos move by ≤ ~1e-4 for
# t ≤ 1000 (measured ≤ 6e-5 over several correct implementations), far less for t ≤ 1.
ATOL_STEPS = 5e-4
ATOL_UNIT = 2e-6


def oracle(t, dim, max_period=10000):
    """(B, dim) float64 entry by entry."""
    half = dim // 2
    out = torch.zeros(len(t), dim, dtype=torch.float64)
    for b, tb in enumerate(t.double().tolist()):
        for i in range(half):
            f = math.exp(-math.log(max_period) * i / half)
            out[b, i] = math.cos(tb * f)
            out[b, half + i] = math.sin(tb * f)
    return out


def call(impl, t, dim, max_period=None):
    what = f"timestep_embedding(t of shape {tuple(t.shape)}, dim={dim}" + (
        ")" if max_period is None else f", max_period={max_period})")
    out = impl.timestep_embedding(t, dim) if max_period is None else impl.timestep_embedding(t, dim, max_period)
    expect_tensor(out, what, shape=(len(t), dim), dtype=torch.float32)
    return out, what


def test_matches_the_closed_form_for_integer_steps(impl):
    t = torch.tensor([0.0, 1.0, 10.0, 250.0, 999.0])
    out, what = call(impl, t, 16)
    expect_close(out, oracle(t, 16).float(), what, atol=ATOL_STEPS, rtol=0.0, hint=HINT)


def test_cosines_come_first_then_sines(impl):
    # At t = 0 every cosine is 1 and every sine 0: the first half must be all ones, the second all zeros.
    out, what = call(impl, torch.zeros(2), 8)
    want = torch.tensor([[1.0] * 4 + [0.0] * 4] * 2)
    expect_close(out, want, f"{what} at t = 0", atol=1e-6, rtol=0.0,
                 hint="At t = 0 the embedding must be [1, 1, 1, 1, 0, 0, 0, 0]: cat([cos, sin]) — cosines FIRST "
                      "(ADM and DiT), not sines first as in the Transformer's positional encoding, and the two "
                      "halves concatenated, not interleaved cos, sin, cos, sin.")
    t = torch.tensor([0.3, 2.0])
    out, what = call(impl, t, 8)
    expect_close(out, oracle(t, 8).float(), what, atol=ATOL_UNIT, rtol=0.0, hint=HINT)


def test_fractional_timesteps_are_not_rounded(impl):
    # Continuous-time models (flow matching, EDM) pass t in [0, 1]; DDIM may pass non-integer steps.
    t = torch.tensor([0.05, 0.37, 0.5, 0.93, 2.5])
    out, what = call(impl, t, 10)
    expect_close(out, oracle(t, 10).float(), what, atol=ATOL_UNIT, rtol=0.0,
                 hint="t may be fractional: keep it as a float (t.float()), never .long(), .int() or round(). "
                      + HINT)


def test_frequencies_run_from_1_down_to_max_period_to_the_minus_i_over_half(impl):
    # For tiny t, sin(t·f_i) ≈ t·f_i: the sine half divided by t reveals the frequencies.
    dim, t0 = 8, 1e-3
    out, what = call(impl, torch.tensor([t0]), dim)
    got = out[0, dim // 2:].double() / t0
    want = torch.tensor([10000 ** (-i / 4) for i in range(4)], dtype=torch.float64)
    worst = int(((got - want).abs() / want).argmax())
    expect(bool(((got - want).abs() <= 1e-3 * want).all()),
           f"{what} at t = {t0}: the sine half divided by t gives the frequencies {[round(v, 6) for v in got.tolist()]}"
           f", expected f_i = 10000^(−i/4) = {[round(v, 6) for v in want.tolist()]} (worst i = {worst}). The "
           "exponent is i/half with half = dim // 2, so f_0 = 1 and the lowest frequency is "
           "max_period^(−(half−1)/half); dividing by half − 1 (lowest = 1/max_period) or by dim is another "
           "embedding.")


def test_odd_dim_appends_one_zero_column(impl):
    t = torch.tensor([0.0, 3.0, 41.5, 700.0])
    out, what = call(impl, t, 7)
    expect(bool((out[:, -1] == 0).all()),
           f"{what}: the last column must be 0 for odd dim (padding), got {out[:, -1].tolist()}. Use half = dim // 2 "
           "cosines and half sines, then append one zero column.")
    expect_close(out, oracle(t, 7).float(), what, atol=ATOL_STEPS, rtol=0.0,
                 hint="For odd dim, half = dim // 2 (3 for dim = 7): 3 cosines, 3 sines, then a zero column at the "
                      "END. " + HINT)


def test_max_period_sets_the_lowest_frequency(impl):
    t = torch.tensor([0.0, 1.0, 7.0, 50.0])
    for max_period in (100, 10.0):
        out, what = call(impl, t, 12, max_period)
        expect_close(out, oracle(t, 12, max_period).float(), what, atol=1e-5, rtol=0.0,
                     hint="Use the max_period argument in f_i = exp(−ln(max_period)·i/half), not a hard-coded 10000.")


def test_deterministic_and_does_not_modify_t(impl):
    t = torch.tensor([3.0, 0.25, 999.0])
    before = t.clone()
    out = expect_deterministic(impl.timestep_embedding, t, 6, what="timestep_embedding(t, 6)")
    expect_unchanged(before, t, "the timesteps t")
    expect_close(out, oracle(t, 6).float(), "timestep_embedding(t, 6)", atol=ATOL_STEPS, rtol=0.0, hint=HINT)


@given(st.integers(1, 5), st.integers(2, 12), st.sampled_from([10, 1000, 10000]), st.integers(0, 2**16))
def test_property_any_batch_dim_and_period(impl, B, dim, max_period, seed):
    t = torch.rand(B, generator=torch.Generator().manual_seed(seed)) * 1000
    out, what = call(impl, t, dim, max_period)
    expect_close(out, oracle(t, dim, max_period).float(), f"{what} with t = {[round(v, 3) for v in t.tolist()]}",
                 atol=ATOL_STEPS, rtol=0.0, hint=HINT)
