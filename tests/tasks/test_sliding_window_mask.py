"""sliding-window-mask: (n, n) bool, [t, s] True where 0 ≤ t − s < window (True = may attend)."""
import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_deterministic, expect_tensor

HINT = ("Row t is the query position, column s the key position; t may attend to s when 0 ≤ t − s < window: itself "
        "and the window − 1 positions just before it (never the future). E.g. d = t[:, None] − s[None, :], "
        "(d >= 0) & (d < window).")


def brute_force(n, window):
    mask = torch.zeros(n, n, dtype=torch.bool)
    for t in range(n):
        for s in range(n):
            mask[t, s] = 0 <= t - s < window
    return mask


def get_mask(impl, n, window):
    got = impl.sliding_window_mask(n, window)
    expect(not isinstance(got, torch.Tensor) or got.dtype == torch.bool,
           f"sliding_window_mask({n}, {window}) returned dtype {getattr(got, 'dtype', None)}; it must be boolean "
           "(True = may attend). A float 0/1 or 0/−inf tensor means something else to attention functions.")
    return expect_tensor(got, f"sliding_window_mask({n}, {window})", shape=(n, n), dtype=torch.bool)


def check_mask(impl, n, window):
    got, want = get_mask(impl, n, window), brute_force(n, window)
    if not torch.equal(got, want):
        t, s = (int(i) for i in (got != want).nonzero()[0])
        rule = "future keys (s > t) are never allowed" if s > t else (
            "t − s = 0: a position always attends to itself" if s == t else
            f"t − s = {t - s} is {'<' if t - s < window else '≥'} window = {window}")
        expect(False, f"sliding_window_mask({n}, {window})[{t}, {s}] is {bool(got[t, s])}, expected "
                      f"{bool(want[t, s])} (query {t}, key {s}: {rule}). {HINT}")


def test_small_cases_against_brute_force(impl):
    for n, window in ((5, 2), (6, 3), (7, 1), (4, 4), (8, 5), (1, 1), (3, 10)):
        check_mask(impl, n, window)


def test_window_at_least_n_is_the_causal_mask(impl):
    for n in (3, 6):
        for window in (n, n + 2):
            got = get_mask(impl, n, window)
            expect(torch.equal(got, torch.ones(n, n, dtype=torch.bool).tril()),
                   f"sliding_window_mask({n}, {window}) with window ≥ n must equal the causal mask "
                   f"(lower triangle with diagonal); got\n{got.int()}. {HINT}")


def test_window_one_is_the_identity(impl):
    got = get_mask(impl, 5, 1)
    expect(torch.equal(got, torch.eye(5, dtype=torch.bool)),
           f"sliding_window_mask(5, 1) must be the identity (each position sees only itself); got\n{got.int()}. "
           "The window counts the position itself: window = 1 means t − s = 0 only.")


def test_row_counts(impl):
    n, window = 9, 4
    got = get_mask(impl, n, window)
    counts = got.sum(-1).tolist()
    want = [min(t + 1, window) for t in range(n)]
    expect(counts == want, f"sliding_window_mask({n}, {window}) has {counts} True entries per row; row t must "
                           f"have min(t + 1, window) = {want}. Off by one? The window includes the position itself.")


def test_deterministic(impl):
    expect_deterministic(impl.sliding_window_mask, 6, 3, what="sliding_window_mask(6, 3)")


@given(st.integers(1, 12), st.integers(1, 14))
def test_property_any_size(impl, n, window):
    check_mask(impl, n, window)
