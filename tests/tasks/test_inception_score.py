"""inception-score: exp(mean_x KL(p(y|x) ‖ p(y))) with p(y) the mean of the rows."""
import math

import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_scalar

HINT = ("p(y) = probs.mean(0) (over SAMPLES); per row KL = Σ_y p(y|x)·log(p(y|x)/p(y)) with 0·log 0 = 0; "
        "IS = exp(mean of the KLs) — the exp outside the mean.")


def oracle(probs):
    rows = probs.double().tolist()
    n, c = len(rows), len(rows[0])
    marginal = [sum(r[j] for r in rows) / n for j in range(c)]
    kls = [sum(p * math.log(p / marginal[j]) for j, p in enumerate(r) if p > 0) for r in rows]
    return math.exp(sum(kls) / n)


def random_probs(n, c, g, sharpness=3.0, zeros=False):
    probs = torch.softmax(sharpness * torch.randn(n, c, generator=g), dim=1)
    if zeros:
        probs = probs * (torch.rand(n, c, generator=g) > 0.4)
        probs[:, 0] += 1e-3  # keep every row non-empty
        probs = probs / probs.sum(1, keepdim=True)
    return probs


def test_matches_a_direct_oracle(impl):
    g = torch.Generator().manual_seed(0)
    probs = random_probs(40, 10, g)
    expect_scalar(impl.inception_score(probs), oracle(probs), "inception_score(probs (40, 10))", atol=1e-4,
                  rtol=1e-4, hint=HINT)
    sparse = random_probs(30, 6, g, zeros=True)
    expect_scalar(impl.inception_score(sparse), oracle(sparse), "inception_score of rows with exact zeros",
                  atol=1e-4, rtol=1e-4, hint="Treat 0·log 0 as 0 (torch.xlogy does). " + HINT)


def test_one_for_identical_rows(impl):
    row = torch.tensor([0.1, 0.6, 0.3])
    expect_scalar(impl.inception_score(row.expand(7, 3).clone()), 1.0, "inception_score of 7 identical rows",
                  atol=1e-5, hint="Identical rows equal the marginal, so every KL is 0 and IS = exp(0) = 1.")


def test_number_of_classes_for_distinct_one_hot_rows(impl):
    expect_scalar(impl.inception_score(torch.eye(5)[[3, 0, 4, 1, 2]]), 5.0, "inception_score of 5 distinct one-hot rows",
                  atol=1e-4, hint="Confident and evenly spread over C classes gives IS = C. " + HINT)
    twice = torch.eye(4)[[0, 1, 2, 3, 3, 2, 1, 0]]
    expect_scalar(impl.inception_score(twice), 4.0, "inception_score of one-hot rows covering 4 classes twice",
                  atol=1e-4, hint="p(y) is the mean over the N samples (dim 0), not over classes. " + HINT)


def test_not_the_mean_of_per_sample_exponentials(impl):
    # Half the samples confident, half uncertain: exp(mean KL) differs clearly from mean(exp KL).
    probs = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1 / 3, 1 / 3, 1 / 3], [1 / 3, 1 / 3, 1 / 3]])
    expect_scalar(impl.inception_score(probs), oracle(probs), "inception_score of 2 one-hot and 2 uniform rows",
                  atol=1e-4, rtol=1e-4, hint=HINT)


@given(st.integers(1, 5), st.integers(1, 5), st.sampled_from([0.5, 3.0, 10.0]), st.booleans(), st.integers(0, 2**16))
def test_property_bounds_and_oracle(impl, n, c, sharpness, zeros, seed):
    probs = random_probs(n, c, torch.Generator().manual_seed(seed), sharpness, zeros)
    got = impl.inception_score(probs)
    expect_scalar(got, oracle(probs), f"inception_score(probs ({n}, {c}))", atol=1e-4, rtol=1e-4, hint=HINT)
    expect(1 - 1e-4 <= float(got) <= c + 1e-4, f"inception_score returned {float(got):.5g} for {c} classes; "
                                                f"IS always lies in [1, C]. {HINT}")
