"""attention-state-merge: merge_attention(o_a, lse_a, o_b, lse_b) equals attention over the union of the keys."""
import math

import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor

HINT = ("ℓ = log(e^ℓa + e^ℓb) (torch.logaddexp), then o = e^(ℓa − ℓ)·o_a + e^(ℓb − ℓ)·o_b, with the weights "
        "unsqueezed to (..., L, 1) so that they scale each query's row.")


def partial(q, k, v):
    """Oracle pieces in float64: SDPA's output over these keys and the log-sum-exp of the scaled scores."""
    q, k, v = q.double(), k.double(), v.double()
    o = F.scaled_dot_product_attention(q, k, v)
    lse = torch.logsumexp(q @ k.transpose(-2, -1) / math.sqrt(q.size(-1)), dim=-1)
    return o, lse


def split_case(seed, lead=(2, 3), L=4, d=5, dv=6, s_a=3, s_b=7, spread=1.0):
    """Queries and two disjoint key sets; returns the inputs (float32) and the oracle over the union (float32)."""
    g = torch.Generator().manual_seed(seed)
    q = spread * torch.randn(*lead, L, d, generator=g)
    k = spread * torch.randn(*lead, s_a + s_b, d, generator=g)
    v = torch.randn(*lead, s_a + s_b, dv, generator=g)
    o_a, lse_a = partial(q, k[..., :s_a, :], v[..., :s_a, :])
    o_b, lse_b = partial(q, k[..., s_a:, :], v[..., s_a:, :])
    o, lse = partial(q, k, v)
    return (o_a.float(), lse_a.float(), o_b.float(), lse_b.float()), (o.float(), lse.float())


def call(impl, args, what):
    result = impl.merge_attention(*args)
    expect(isinstance(result, tuple) and len(result) == 2,
           f"{what} should return a tuple (o, lse), got {type(result).__name__}")
    o, lse = result
    o_a, lse_a = args[0], args[1]
    expect_tensor(o, f"{what}: the merged output o", shape=o_a.shape, dtype=torch.float32)
    expect_tensor(lse, f"{what}: the merged lse", shape=lse_a.shape, dtype=torch.float32)
    return o, lse


def test_equals_attention_over_the_concatenated_keys(impl):
    args, (o_want, lse_want) = split_case(0)
    what = "merge_attention of two partial results (B=2, H=3, L=4, d=5, dv=6; 3 and 7 keys)"
    o, lse = call(impl, args, what)
    expect_close(lse, lse_want, f"{what}: lse", atol=1e-5,
                 hint="The merged lse is the log-sum-exp of ALL the scores: log(e^ℓa + e^ℓb) = torch.logaddexp(ℓa, ℓb) "
                      "— not max(ℓa, ℓb) (that is only the running max) and not ℓa + ℓb.")
    expect_close(o, o_want, f"{what}: output vs SDPA over all 10 keys", atol=1e-5,
                 hint="Each side's output is already normalized over its own keys, so weight it by its share of the "
                      "total softmax mass, e^(ℓa − ℓ) and e^(ℓb − ℓ) (they sum to 1) — not 1/2 each, and do not "
                      "leave the weights unnormalized. " + HINT)


def test_weights_scale_query_rows_when_L_equals_d(impl):
    # With L == d a weight of shape (..., L) broadcasts silently along the feature dim instead of the query dim.
    args, (o_want, lse_want) = split_case(1, lead=(2,), L=5, d=5, dv=5, s_a=4, s_b=4, spread=1.5)
    o, lse = call(impl, args, "merge_attention with L = d = dv = 5")
    expect_close(o, o_want, "merged output with L = d = dv = 5", atol=1e-5,
                 hint="The weights e^(ℓa − ℓ) have shape (..., L): add a trailing dim (.unsqueeze(-1)) so that "
                      "weight i multiplies query i's row; without it they broadcast along the feature dim.")


def test_stable_when_the_two_lse_differ_by_1e4(impl):
    args, _ = split_case(2, lead=(3,), L=4, d=4, dv=4)
    o_a, _, o_b, _ = args
    g = torch.Generator().manual_seed(3)
    base = torch.randn(3, 4, generator=g)
    for lse_a, lse_b, case in ((base, base + 1e4, "ℓb = ℓa + 1e4"), (base + 1e4, base, "ℓa = ℓb + 1e4")):
        what = f"merge_attention with {case}"
        o, lse = call(impl, (o_a, lse_a, o_b, lse_b), what)
        o_want = o_b if lse_b[0, 0] > lse_a[0, 0] else o_a
        lse_want = torch.maximum(lse_a.double(), lse_b.double()).float()
        hint = ("Never exponentiate an lse itself: e^10000 overflows to inf and inf/inf is NaN. Subtract the larger lse "
                "first (torch.logaddexp does), so every exponent is ≤ 0.")
        expect_close(lse, lse_want, f"{what}: lse (the larger side dominates completely)", atol=5e-3, rtol=1e-6,
                     hint=hint)
        expect_close(o, o_want, f"{what}: output (the larger side dominates completely)", atol=1e-5, hint=hint)


def test_stable_when_both_lse_are_large(impl):
    o_a, o_b = torch.randn(2, 3, 4), torch.randn(2, 3, 4)
    lse_a = torch.tensor([[1e4, 1e4 + 0.5, -1e4], [5e3, 8e3, 9e3 + 1.0]])
    lse_b = torch.tensor([[1e4 + 1.0, 1e4, -1e4 + 2.0], [5e3 - 0.25, 8e3 + 3.0, 9e3]])
    a64, b64 = lse_a.double(), lse_b.double()
    lse_want = torch.logaddexp(a64, b64)
    w_a = torch.sigmoid(a64 - b64).unsqueeze(-1)  # e^ℓa / (e^ℓa + e^ℓb), written stably
    o_want = (w_a * o_a.double() + (1 - w_a) * o_b.double()).float()
    # At |ℓ| ~ 1e4 float32 rounds ℓ by up to 5e-4, so the weights e^(ℓa − ℓ) carry that relative error.
    what = "merge_attention with lse around ±1e4 that differ by at most 3"
    o, lse = call(impl, (o_a, lse_a, o_b, lse_b), what)
    hint = ("e^(±1e4) overflows or underflows in float32 (and float64). Work with differences: ℓ = m + log(e^(ℓa − m) + "
            "e^(ℓb − m)) with m = max(ℓa, ℓb), i.e. torch.logaddexp, and weights e^(ℓa − ℓ), e^(ℓb − ℓ).")
    expect_close(lse, lse_want.float(), f"{what}: lse", atol=5e-3, rtol=1e-6, hint=hint)
    expect_close(o, o_want, f"{what}: output", atol=3e-3, rtol=1e-3, hint=hint)


def test_a_fully_masked_side_contributes_nothing(impl):
    args, _ = split_case(4, lead=(2,), L=3, d=4, dv=4)
    o_a, lse_a, o_b, lse_b = args
    empty_o = torch.randn(2, 3, 4, generator=torch.Generator().manual_seed(5))  # finite, but must get weight 0
    empty_lse = torch.full((2, 3), float("-inf"))
    hint = ("A side with lse = -inf has no keys: its weight e^(-inf − ℓ) is 0 and ℓ = the other lse. NaN appears when "
            "an expression computes -inf − (-inf) or inf − inf, e.g. ℓa + log1p(e^(ℓb − ℓa)) with ℓa = -inf; "
            "torch.logaddexp handles -inf.")
    for args_, keep, side in (((empty_o, empty_lse, o_b, lse_b), (o_b, lse_b), "a"),
                              ((o_a, lse_a, empty_o, empty_lse), (o_a, lse_a), "b")):
        what = f"merge_attention with side {side} fully masked (lse_{side} = -inf, o_{side} random but finite)"
        o, lse = call(impl, args_, what)
        expect_close(lse, keep[1], f"{what}: lse", atol=1e-6, hint=hint)
        expect_close(o, keep[0], f"{what}: output", atol=1e-6, hint=hint)


def test_associative_and_equal_to_attention_over_three_sets(impl):
    g = torch.Generator().manual_seed(6)
    q = torch.randn(2, 4, 5, generator=g)
    k, v = torch.randn(2, 12, 5, generator=g), torch.randn(2, 12, 3, generator=g)
    parts = [tuple(t.float() for t in partial(q, k[:, a:b], v[:, a:b])) for a, b in ((0, 2), (2, 7), (7, 12))]
    (o1, l1), (o2, l2), (o3, l3) = parts
    left = impl.merge_attention(*impl.merge_attention(o1, l1, o2, l2), o3, l3)
    right = impl.merge_attention(o1, l1, *impl.merge_attention(o2, l2, o3, l3))
    o_all, lse_all = (t.float() for t in partial(q, k, v))
    hint = "Merging is associative: (A ∪ B) ∪ C = A ∪ (B ∪ C), so both orders must give attention over all 12 keys."
    for name, (o, lse) in (("merge(merge(A, B), C)", left), ("merge(A, merge(B, C))", right)):
        expect_close(lse, lse_all, f"{name}: lse vs logsumexp over all 12 keys", atol=1e-5, hint=hint + " " + HINT)
        expect_close(o, o_all, f"{name}: output vs SDPA over all 12 keys", atol=1e-5, hint=hint + " " + HINT)


def test_deterministic(impl):
    args, _ = split_case(7, lead=(1,), L=3, d=2, dv=2)
    expect_deterministic(impl.merge_attention, *args, what="merge_attention")


@given(st.lists(st.integers(1, 3), min_size=0, max_size=2), st.integers(1, 5), st.integers(1, 5),
       st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**16))
def test_property_any_split(impl, lead, L, d, s_a, s_b, seed):
    args, (o_want, lse_want) = split_case(seed, lead=tuple(lead), L=L, d=d, dv=d + 1, s_a=s_a, s_b=s_b, spread=2.0)
    o, lse = call(impl, args, f"merge_attention on o of shape {tuple(args[0].shape)}")
    expect_close(lse, lse_want, f"merged lse, o of shape {tuple(args[0].shape)}, {s_a} + {s_b} keys", atol=1e-4,
                 rtol=1e-4, hint=HINT)
    expect_close(o, o_want, f"merged output, o of shape {tuple(args[0].shape)}, {s_a} + {s_b} keys", atol=1e-4,
                 rtol=1e-4, hint=HINT)
