"""causal-mask: (n, n) bool, True on and below the diagonal (True = may attend)."""
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_tensor

HINT = ("Row t is the query at position t, column s the key at position s; t may attend to s ≤ t, "
        "so the mask is the LOWER triangle including the diagonal: torch.ones(n, n, dtype=torch.bool).tril().")


def oracle(n):
    rows = torch.arange(n)[:, None]
    cols = torch.arange(n)[None, :]
    return cols <= rows  # key position ≤ query position


def check_mask(impl, n):
    got = impl.causal_mask(n)
    expect(not isinstance(got, torch.Tensor) or got.dtype == torch.bool,
           f"causal_mask({n}) returned dtype {getattr(got, 'dtype', None)}; it must be boolean (torch.bool). "
           "A float 0/1 tensor passed as attn_mask is ADDED to the scores and masks nothing.")
    expect_tensor(got, f"causal_mask({n})", shape=(n, n), dtype=torch.bool)
    want = oracle(n)
    if not torch.equal(got, want):
        t, s = (int(i) for i in (got != want).nonzero()[0])
        expect(False, f"causal_mask({n})[{t}, {s}] is {bool(got[t, s])}, expected {bool(want[t, s])} "
                      f"(query position {t}, key position {s}). {HINT}")


def test_small_masks_equal_the_lower_triangle(impl):
    for n in (1, 2, 3, 5, 8):
        check_mask(impl, n)


@given(st.integers(1, 40))
def test_any_size(impl, n):
    check_mask(impl, n)


def test_diagonal_is_allowed_so_no_row_is_empty(impl):
    got = impl.causal_mask(6)
    expect_tensor(got, "causal_mask(6)", shape=(6, 6), dtype=torch.bool)
    expect(bool(got.diagonal().all()),
           f"the diagonal of causal_mask(6) is {got.diagonal().tolist()}; each position must attend to itself "
           "(otherwise the first row allows nothing and the softmax gives NaN).")


def test_outputs_do_not_depend_on_later_inputs(impl):
    # With the mask, attention output at position t must not change when inputs after t change.
    g = torch.Generator().manual_seed(0)
    n, d = 7, 4
    mask = impl.causal_mask(n)
    check_mask(impl, n)
    q, k, v = (torch.randn(2, n, d, generator=g, dtype=torch.float64) for _ in range(3))
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    for t in range(n - 1):
        k2, v2 = k.clone(), v.clone()
        k2[:, t + 1:] = torch.randn(2, n - t - 1, d, generator=g, dtype=torch.float64)
        v2[:, t + 1:] = torch.randn(2, n - t - 1, d, generator=g, dtype=torch.float64)
        out2 = F.scaled_dot_product_attention(q, k2, v2, attn_mask=mask)
        expect_close(out2[:, :t + 1], out[:, :t + 1],
                     f"attention outputs at positions 0..{t} after changing the keys/values at positions > {t}",
                     atol=1e-10, hint="Position t leaked information from the future. " + HINT)
    # ...and it is the standard causal attention, not something stricter.
    expect_close(out, F.scaled_dot_product_attention(q, k, v, is_causal=True),
                 "attention with your mask vs F.scaled_dot_product_attention(..., is_causal=True)",
                 atol=1e-10, hint=HINT)
