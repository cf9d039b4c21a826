"""sample-next-token: temperature, top-k and top-p (nucleus) filtering, then sampling.

The oracle sorts each row in plain Python (float64), keeps the top k, renormalizes and walks down the sorted
probabilities until their sum reaches top_p — the crossing token included.
"""
import math

import torch
from hypothesis import assume, given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_tensor, expect_unchanged

HINT = ("Order: logits / temperature; keep the top_k; softmax over what is left; sort descending and keep tokens "
        "until the running sum reaches top_p — the token that crosses top_p stays, and the top token always stays. "
        "Removed logits become -inf; kept ones stay logits / temperature.")
NEG_INF = float("-inf")


def oracle(logits, temperature=1.0, top_k=None, top_p=None):
    """Sort-based reference in float64; returns the filtered logits (B, V) in the input's dtype."""
    x = logits.double() / temperature
    out = torch.full_like(x, NEG_INF)
    for b, row in enumerate(x.tolist()):
        order = sorted(range(len(row)), key=lambda i: -row[i])
        kept = order[:top_k] if top_k is not None else order
        if top_p is not None:
            m = row[kept[0]]
            weights = [math.exp(row[i] - m) for i in kept]
            total, running, nucleus = sum(weights), 0.0, []
            for i, w in zip(kept, weights):
                nucleus.append(i)
                running += w / total
                if running >= top_p:
                    break
            kept = nucleus
        out[b, kept] = x[b, kept]
    return out.to(logits.dtype)


def kept_sets(filtered):
    return [sorted(torch.isfinite(row).nonzero().flatten().tolist()) for row in filtered]


def check_filter(impl, logits, what, **kw):
    got = impl.filter_logits(logits.clone(), **kw)
    want = oracle(logits, **kw)
    expect_tensor(got, what, shape=tuple(logits.shape), dtype=logits.dtype)
    got_sets, want_sets = kept_sets(got), kept_sets(want)
    for b, (g_set, w_set) in enumerate(zip(got_sets, want_sets)):
        expect(g_set == w_set, f"{what}: row {b} keeps tokens {g_set}, expected {w_set}. {HINT}")
    expect_close(got, want, what, atol=1e-5, hint=HINT)


def test_temperature_only_rescales(impl):
    logits = torch.tensor([[1.0, -2.0, 0.5, 3.0], [0.0, 0.0, 1.0, -1.0]])
    for t in (0.5, 1.0, 2.0):
        check_filter(impl, logits, f"filter_logits(logits, temperature={t})", temperature=t)


def test_top_k_hand_example(impl):
    logits = torch.tensor([[1.0, 3.0, 2.0, 0.5], [-1.0, -3.0, 0.0, 4.0]])
    got = impl.filter_logits(logits, top_k=2)
    want = torch.tensor([[NEG_INF, 3.0, 2.0, NEG_INF], [NEG_INF, NEG_INF, 0.0, 4.0]])
    expect_close(got, want, "filter_logits(logits, top_k=2)", atol=1e-6,
                 hint="Keep exactly the 2 largest logits of each row; set the others to -inf.")


def test_top_p_keeps_the_token_that_crosses_the_threshold(impl):
    # Probabilities, in vocabulary order: 0.15, 0.5, 0.05, 0.3. Sorted: 0.5, 0.3, 0.15, 0.05;
    # running sums 0.5, 0.8, 0.95, 1.0.
    logits = torch.tensor([[0.15, 0.5, 0.05, 0.3]]).log()
    for top_p, keep in ((0.4, [1]), (0.7, [1, 3]), (0.85, [1, 3, 0]), (0.97, [1, 3, 0, 2])):
        got = impl.filter_logits(logits, top_p=top_p)
        expect_tensor(got, f"filter_logits(logits, top_p={top_p})", shape=(1, 4), dtype=torch.float32)
        expect(kept_sets(got)[0] == sorted(keep),
               f"filter_logits with probabilities [0.15, 0.5, 0.05, 0.3] and top_p={top_p} kept tokens "
               f"{kept_sets(got)[0]}, expected {sorted(keep)}: the sorted running sum is 0.5, 0.8, 0.95, 1.0 and "
               "the token whose probability makes it reach top_p is kept too (smallest set with sum >= top_p).")
        want = torch.where(torch.isin(torch.arange(4), torch.tensor(keep)), logits, torch.tensor(NEG_INF))
        expect_close(got, want, f"filter_logits(logits, top_p={top_p})", atol=1e-6, hint=HINT)


def test_top_k_is_applied_before_top_p(impl):
    # probs 0.32, 0.28, 0.22, 0.18. top_k=3 renormalizes to 0.390, 0.341, 0.268: top_p=0.7 keeps 2 tokens.
    # (top-p on the unfiltered distribution would keep 3: 0.32 + 0.28 = 0.60 < 0.7.)
    logits = torch.tensor([[0.22, 0.32, 0.18, 0.28]]).log()
    check_filter(impl, logits, "filter_logits(logits, top_k=3, top_p=0.7)", top_k=3, top_p=0.7)


def test_temperature_is_applied_before_top_p(impl):
    # At temperature 1 the top token alone has 0.6 >= 0.55; at temperature 3 the distribution is flatter.
    logits = torch.tensor([[0.6, 0.25, 0.1, 0.05]]).log()
    check_filter(impl, logits, "filter_logits(logits, temperature=3.0, top_p=0.55)", temperature=3.0, top_p=0.55)
    check_filter(impl, logits, "filter_logits(logits, temperature=0.5, top_k=3, top_p=0.9)",
                 temperature=0.5, top_k=3, top_p=0.9)


def test_does_not_modify_the_logits(impl):
    logits = torch.randn(3, 7)
    before = logits.clone()
    impl.filter_logits(logits, temperature=0.7, top_k=4, top_p=0.8)
    expect_unchanged(before, logits, "the logits passed to filter_logits")
    impl.sample_next_token(logits, temperature=0.7, top_k=4, top_p=0.8, generator=torch.Generator().manual_seed(0))
    expect_unchanged(before, logits, "the logits passed to sample_next_token")


@st.composite
def filter_case(draw):
    B, V = draw(st.integers(1, 4)), draw(st.integers(1, 8))
    temperature = draw(st.sampled_from([0.5, 0.8, 1.0, 1.7, 3.0]))
    top_k = draw(st.one_of(st.none(), st.integers(1, V + 1)))
    top_p = draw(st.one_of(st.none(), st.floats(0.05, 0.99)))
    scale = draw(st.sampled_from([0.5, 2.0, 5.0]))
    seed = draw(st.integers(0, 2**16))
    logits = scale * torch.randn(B, V, generator=torch.Generator().manual_seed(seed))
    x = logits.double() / temperature
    for row in x:  # no ties at the top-k boundary, no running sum within 1e-6 of top_p
        s = row.sort(descending=True).values
        if top_k is not None and top_k < V:
            assume(float(s[top_k - 1] - s[top_k]) > 1e-4)
        if top_p is not None:
            kept = s[:top_k] if top_k is not None else s
            running = kept.softmax(-1).cumsum(-1)
            assume(bool(((running - top_p).abs() > 1e-6).all()))
    return logits, dict(temperature=temperature, top_k=top_k, top_p=top_p)


@given(filter_case())
def test_property_matches_sort_based_oracle(impl, case):
    logits, kw = case
    args = ", ".join(f"{k}={v}" for k, v in kw.items())
    check_filter(impl, logits, f"filter_logits(logits of shape {tuple(logits.shape)}, {args})", **kw)


def test_top_k_1_is_argmax(impl):
    g = torch.Generator().manual_seed(1)
    logits = 3 * torch.randn(50, 10, generator=g)
    tokens = impl.sample_next_token(logits, top_k=1, generator=g)
    expect_tensor(tokens, "sample_next_token(logits (50, 10), top_k=1)", shape=(50,), dtype=torch.int64)
    expect(torch.equal(tokens, logits.argmax(dim=-1)),
           f"sample_next_token with top_k=1 must return the argmax of every row; rows "
           f"{(tokens != logits.argmax(-1)).nonzero().flatten().tolist()[:10]} differ.")
    tokens = impl.sample_next_token(logits, temperature=0.3, top_k=1, top_p=0.9, generator=g)
    expect(torch.equal(tokens, logits.argmax(dim=-1)), "sample_next_token with top_k=1 (and temperature=0.3, "
           "top_p=0.9) must return the argmax of every row.")


def empirical(impl, row, n, seed, **kw):
    g = torch.Generator().manual_seed(seed)
    tokens = impl.sample_next_token(row.expand(n, -1).clone(), generator=g, **kw)
    expect_tensor(tokens, f"sample_next_token(logits ({n}, {row.numel()}), ...)", shape=(n,), dtype=torch.int64)
    expect(bool(((tokens >= 0) & (tokens < row.numel())).all()), "sample_next_token returned a token id outside 0..V-1")
    return torch.bincount(tokens, minlength=row.numel()).double() / n


@torch.no_grad()
def test_frequencies_match_the_filtered_softmax(impl):
    # 20 000 draws: the standard error of a frequency is at most 0.0036; we allow 0.02.
    row = torch.tensor([2.0, 1.2, 0.7, 0.3, -0.2, -1.0, 0.9])
    for kw in (dict(), dict(temperature=0.8, top_k=5, top_p=0.85), dict(temperature=1.5, top_p=0.7)):
        want = oracle(row.unsqueeze(0), **kw).double().softmax(-1)[0]
        freq = empirical(impl, row, 20_000, seed=3, **kw)
        args = ", ".join(f"{k}={v}" for k, v in kw.items()) or "default arguments"
        expect(bool((freq[want == 0] == 0).all()),
               f"sample_next_token({args}) drew filtered-out tokens {(freq * (want == 0)).nonzero().flatten().tolist()}; "
               "sample from softmax(filter_logits(...)), never from the unfiltered logits.")
        worst = int((freq - want).abs().argmax())
        expect(bool(((freq - want).abs() < 0.02).all()),
               f"sample_next_token({args}): token {worst} was drawn with frequency {float(freq[worst]):.4f} in "
               f"20 000 draws, but its probability after filtering is {float(want[worst]):.4f}. {HINT}")


def test_generator_makes_draws_reproducible(impl):
    logits = torch.randn(200, 6, generator=torch.Generator().manual_seed(4))
    a = impl.sample_next_token(logits, temperature=1.2, top_p=0.9, generator=torch.Generator().manual_seed(7))
    b = impl.sample_next_token(logits, temperature=1.2, top_p=0.9, generator=torch.Generator().manual_seed(7))
    expect_tensor(a, "sample_next_token(logits (200, 6), ...)", shape=(200,), dtype=torch.int64)
    expect(torch.equal(a, b), "two calls with generators seeded the same gave different tokens; draw with the "
           "`generator` passed in, e.g. torch.multinomial(probs, 1, generator=generator).")
