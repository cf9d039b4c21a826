"""inception-score: exp(mean_x KL(p(y|x) ‖ p(y))) with p(y) the mean of the rows."""
import math

import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_scalar, say, usual_cause

HINT = say(en="p(y) = probs.mean(0) (over SAMPLES); per row KL = Σ_y p(y|x)·log(p(y|x)/p(y)) with 0·log 0 = 0; "
              "IS = exp(mean of the KLs) — the exp outside the mean.",
           zh="p(y) = probs.mean(0)（在【样本】维上求均值）；每行 KL = Σ_y p(y|x)·log(p(y|x)/p(y))，0·log 0 = 0；"
              "IS = exp(各行 KL 的均值)——exp 在均值之外。")


def likely_is_mistakes(probs):
    """What the usual mistakes give on probs, each with its cause."""
    p = probs.double()

    def kl(q, m):
        return (torch.xlogy(q, q) - torch.xlogy(q, m)).sum(1)

    good = kl(p, p.mean(0, keepdim=True))
    m = p.mean(0, keepdim=True).expand_as(p)
    reverse = (m * (torch.log(m + 1e-12) - torch.log(p + 1e-12))).sum(1)
    return ((kl(p, p.mean(1, keepdim=True)).mean().exp(),
             say(en="the marginal p(y) taken as a mean over classes (dim 1); average over the samples: probs.mean(0).",
                 zh="边缘分布 p(y) 在类别维（dim 1）上求了均值；应在样本维上求均值：probs.mean(0)。")),
            (good.exp().mean(),
             say(en="the mean of exp(KL) over samples; exponentiate the mean KL: exp(mean KL).",
                 zh="对各样本的 exp(KL) 求了均值；应对 KL 的均值取 exp：exp(mean KL)。")),
            (good.mean(),
             say(en="the mean KL without the exponential; IS = exp(mean KL).",
                 zh="只返回了 KL 的均值，漏了指数；IS = exp(mean KL)。")),
            (reverse.mean().exp(),
             say(en="the reversed KL(p(y) ‖ p(y|x)); KL is not symmetric — use KL(p(y|x) ‖ p(y)) = "
                    "Σ_y p(y|x)·log(p(y|x)/p(y)).",
                 zh="用了反向的 KL(p(y) ‖ p(y|x))；KL 不对称——应为 KL(p(y|x) ‖ p(y)) = "
                    "Σ_y p(y|x)·log(p(y|x)/p(y))。")))


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
                  rtol=1e-4, hint=HINT, likely=likely_is_mistakes(probs))
    sparse = random_probs(30, 6, g, zeros=True)
    expect_scalar(impl.inception_score(sparse), oracle(sparse),
                  say(en="inception_score of rows with exact zeros", zh="行中含精确 0 时的 inception_score"),
                  atol=1e-4, rtol=1e-4, hint=say(en="Treat 0·log 0 as 0 (torch.xlogy does). " + HINT.en,
                                                 zh="把 0·log 0 当作 0（torch.xlogy 就是这样处理的）。" + HINT.zh),
                  likely=likely_is_mistakes(sparse))


def test_one_for_identical_rows(impl):
    row = torch.tensor([0.1, 0.6, 0.3])
    expect_scalar(impl.inception_score(row.expand(7, 3).clone()), 1.0,
                  say(en="inception_score of 7 identical rows", zh="7 行完全相同时的 inception_score"), atol=1e-5,
                  hint=say(en="Identical rows equal the marginal, so every KL is 0 and IS = exp(0) = 1.",
                           zh="各行相同时每行都等于边缘分布，所以每个 KL 都是 0，IS = exp(0) = 1。"),
                  likely=likely_is_mistakes(row.expand(7, 3).clone()))


def test_number_of_classes_for_distinct_one_hot_rows(impl):
    once = torch.eye(5)[[3, 0, 4, 1, 2]]
    expect_scalar(impl.inception_score(once), 5.0,
                  say(en="inception_score of 5 distinct one-hot rows", zh="5 个互不相同的独热行的 inception_score"),
                  atol=1e-4, hint=say(en="Confident and evenly spread over C classes gives IS = C. " + HINT.en,
                                      zh="预测很确定且均匀分布在 C 个类别上时 IS = C。" + HINT.zh),
                  likely=likely_is_mistakes(once))
    twice = torch.eye(4)[[0, 1, 2, 3, 3, 2, 1, 0]]
    expect_scalar(impl.inception_score(twice), 4.0,
                  say(en="inception_score of one-hot rows covering 4 classes twice",
                      zh="独热行把 4 个类别各覆盖两次时的 inception_score"),
                  atol=1e-4, hint=say(en="p(y) is the mean over the N samples (dim 0), not over classes. " + HINT.en,
                                      zh="p(y) 是在 N 个样本（dim 0）上的均值，不是在类别上。" + HINT.zh),
                  likely=likely_is_mistakes(twice))


def test_not_the_mean_of_per_sample_exponentials(impl):
    # Half the samples confident, half uncertain: exp(mean KL) differs clearly from mean(exp KL).
    probs = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1 / 3, 1 / 3, 1 / 3], [1 / 3, 1 / 3, 1 / 3]])
    expect_scalar(impl.inception_score(probs), oracle(probs),
                  say(en="inception_score of 2 one-hot and 2 uniform rows", zh="2 个独热行加 2 个均匀行的 inception_score"),
                  atol=1e-4, rtol=1e-4, hint=HINT, likely=likely_is_mistakes(probs))


@given(st.integers(1, 5), st.integers(1, 5), st.sampled_from([0.5, 3.0, 10.0]), st.booleans(), st.integers(0, 2**16))
def test_property_bounds_and_oracle(impl, n, c, sharpness, zeros, seed):
    probs = random_probs(n, c, torch.Generator().manual_seed(seed), sharpness, zeros)
    got = impl.inception_score(probs)
    expect_scalar(got, oracle(probs), f"inception_score(probs ({n}, {c}))", atol=1e-4, rtol=1e-4, hint=HINT,
                  likely=likely_is_mistakes(probs))
    cause = usual_cause(got, likely_is_mistakes(probs), HINT, atol=1e-4)
    expect(1 - 1e-4 <= float(got) <= c + 1e-4,
           say(en=f"inception_score returned {float(got):.5g} for {c} classes; IS always lies in [1, C]. {cause.en}",
               zh=f"{c} 个类别时 inception_score 返回了 {float(got):.5g}；IS 总在 [1, C] 之内。{cause.zh}"))
