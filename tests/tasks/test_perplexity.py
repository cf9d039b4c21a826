"""perplexity: exp of the mean token NLL over non-ignored targets; logits (..., V), class dim last."""
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect_scalar

HINT = ("exp(mean NLL): log-softmax over the LAST dim (the vocabulary), pick each target's log-prob, drop positions "
        "whose target == ignore_index from both the sum and the count, average, then exp.")


def oracle(logits, targets, ignore_index=-100):
    V = logits.size(-1)
    nll = F.cross_entropy(logits.double().reshape(-1, V), targets.reshape(-1), ignore_index=ignore_index)
    return nll.exp().item()


def test_matches_exp_cross_entropy_with_padding(impl):
    g = torch.Generator().manual_seed(0)
    logits = 2 * torch.randn(2, 5, 7, generator=g)  # (B, T, V)
    targets = torch.randint(0, 7, (2, 5), generator=g)
    targets[0, 3:] = -100  # padding
    targets[1, 4] = -100
    expect_scalar(impl.perplexity(logits, targets), oracle(logits, targets),
                  "perplexity(logits (2, 5, 7), targets with -100 padding)", atol=1e-4, rtol=1e-4, hint=HINT)


def test_non_default_ignore_index(impl):
    # Pad id 0 is also a real token id here: positions with target 0 must not count at all.
    g = torch.Generator().manual_seed(1)
    logits = 2 * torch.randn(3, 6, 5, generator=g)
    targets = torch.randint(0, 5, (3, 6), generator=g)
    targets[:, 4:] = 0
    for ignore_index in (0, 3):
        expect_scalar(impl.perplexity(logits, targets, ignore_index=ignore_index),
                      oracle(logits, targets, ignore_index), f"perplexity(..., ignore_index={ignore_index})",
                      atol=1e-4, rtol=1e-4,
                      hint="Use the ignore_index ARGUMENT (F.cross_entropy's default -100 is not it). " + HINT)


def test_two_dimensional_logits(impl):
    g = torch.Generator().manual_seed(2)
    logits, targets = torch.randn(9, 4, generator=g), torch.randint(0, 4, (9,), generator=g)
    expect_scalar(impl.perplexity(logits, targets), oracle(logits, targets), "perplexity(logits (9, 4), targets (9,))",
                  atol=1e-4, rtol=1e-4, hint=HINT)


def test_uniform_logits_give_the_vocabulary_size(impl):
    targets = torch.tensor([[1, 5, 0, -100], [7, 2, -100, -100]])
    expect_scalar(impl.perplexity(torch.zeros(2, 4, 8), targets), 8.0,
                  "perplexity of uniform logits over 8 tokens", atol=1e-4, rtol=1e-5,
                  hint="A uniform model over V tokens has NLL log V per token, so perplexity V.")


def test_the_exp_comes_after_the_mean(impl):
    # One easy and one hard token: exp(mean NLL) ≠ mean(exp NLL).
    logits = torch.tensor([[[6.0, 0.0, 0.0], [0.0, 0.0, 6.0]]])
    targets = torch.tensor([[0, 0]])
    expect_scalar(impl.perplexity(logits, targets), oracle(logits, targets),
                  "perplexity of one confident-correct and one confident-wrong token", atol=1e-3, rtol=1e-4,
                  hint="Average the NLLs first, then exponentiate once (a geometric mean of 1/p).")


@given(st.integers(1, 4), st.integers(1, 4), st.integers(2, 6), st.integers(0, 2**16))
def test_property_any_shape_with_padding(impl, B, T, V, seed):
    g = torch.Generator().manual_seed(seed)
    logits = 3 * torch.randn(B, T, V, generator=g)
    targets = torch.randint(0, V, (B, T), generator=g)
    pad = torch.rand(B, T, generator=g) < 0.3
    pad[0, 0] = False  # at least one real token
    targets[pad] = -100
    expect_scalar(impl.perplexity(logits, targets), oracle(logits, targets),
                  f"perplexity(logits ({B}, {T}, {V}), {int(pad.sum())} padded targets)", atol=1e-4, rtol=1e-4,
                  hint=HINT)
