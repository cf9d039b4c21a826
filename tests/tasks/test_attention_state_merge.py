"""attention-state-merge: merge_attention(o_a, lse_a, o_b, lse_b) equals attention over the union of the keys."""
import math

import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor, say

HINT = say(en="ℓ = log(e^ℓa + e^ℓb) (torch.logaddexp), then o = e^(ℓa − ℓ)·o_a + e^(ℓb − ℓ)·o_b, with the weights "
              "unsqueezed to (..., L, 1) so that they scale each query's row.",
           zh="ℓ = log(e^ℓa + e^ℓb)（torch.logaddexp），再算 o = e^(ℓa − ℓ)·o_a + e^(ℓb − ℓ)·o_b，权重要 unsqueeze "
              "成 (..., L, 1)，让它缩放每个查询的那一行。")


def likely_merge_mistakes(args):
    """(pairs for the output, pairs for the lse): what the usual merge mistakes give on args, each with its cause."""
    o_a, lse_a, o_b, lse_b = (t.double() for t in args)
    m = torch.maximum(lse_a, lse_b)
    w_a, w_b = (lse_a - m).exp(), (lse_b - m).exp()
    outs = [((o_a + o_b) / 2,
             say(en="the two outputs averaged with weight 1/2 each; weight each by its share of the softmax mass, "
                    "e^(ℓa − ℓ) and e^(ℓb − ℓ).",
                 zh="两个输出各取 1/2 求平均；应按各自占 softmax 总质量的比例加权：e^(ℓa − ℓ) 与 e^(ℓb − ℓ)。")),
            (w_a.unsqueeze(-1) * o_a + w_b.unsqueeze(-1) * o_b,
             say(en="weights e^(ℓ − max) not divided by their sum; the outputs are already normalized, so use "
                    "e^(ℓa − ℓ) and e^(ℓb − ℓ) with ℓ = logaddexp(ℓa, ℓb), which sum to 1.",
                 zh="权重 e^(ℓ − max) 没有除以它们的和；两个输出已经各自归一化，应使用 e^(ℓa − ℓ) 和 e^(ℓb − ℓ)，"
                    "其中 ℓ = logaddexp(ℓa, ℓb)，两者之和为 1。"))]
    if o_a.shape[-2] == o_a.shape[-1]:
        lse = torch.logaddexp(lse_a, lse_b)
        outs.append(((lse_a - lse).exp().unsqueeze(-2) * o_a + (lse_b - lse).exp().unsqueeze(-2) * o_b,
                     say(en="the (..., L) weights broadcast along the feature dim; add a trailing dim (.unsqueeze(-1)) "
                            "so that weight i scales query i's row.",
                         zh="形状为 (..., L) 的权重沿特征维广播了；要加一个末尾维度（.unsqueeze(-1)），让第 i 个权重缩放"
                            "第 i 个查询的那一行。")))
    lses = ((m, say(en="the running max max(ℓa, ℓb) returned as the lse; the merged lse is logaddexp(ℓa, ℓb).",
                    zh="把运行最大值 max(ℓa, ℓb) 当作 lse 返回了；合并后的 lse 是 logaddexp(ℓa, ℓb)。")),
            (lse_a + lse_b, say(en="ℓa + ℓb; the merged lse is log(e^ℓa + e^ℓb) = torch.logaddexp(ℓa, ℓb).",
                                zh="用了 ℓa + ℓb；合并后的 lse 是 log(e^ℓa + e^ℓb) = torch.logaddexp(ℓa, ℓb)。")))
    return tuple(outs), lses


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
           say(en=f"{what.en} should return a tuple (o, lse), got {type(result).__name__}",
               zh=f"{what.zh} 应返回元组 (o, lse)，实际是 {type(result).__name__}"))
    o, lse = result
    o_a, lse_a = args[0], args[1]
    expect_tensor(o, say(en=f"{what.en}: the merged output o", zh=f"{what.zh}：合并后的输出 o"), shape=o_a.shape,
                  dtype=torch.float32)
    expect_tensor(lse, say(en=f"{what.en}: the merged lse", zh=f"{what.zh}：合并后的 lse"), shape=lse_a.shape,
                  dtype=torch.float32)
    return o, lse


def test_equals_attention_over_the_concatenated_keys(impl):
    args, (o_want, lse_want) = split_case(0)
    what = say(en="merge_attention of two partial results (B=2, H=3, L=4, d=5, dv=6; 3 and 7 keys)",
               zh="合并两个部分结果的 merge_attention（B=2, H=3, L=4, d=5, dv=6；分别 3 个和 7 个键）")
    o, lse = call(impl, args, what)
    likely_o, likely_lse = likely_merge_mistakes(args)
    expect_close(lse, lse_want, say(en=f"{what.en}: lse", zh=f"{what.zh}：lse"), atol=1e-5,
                 hint=say(en="The merged lse is the log-sum-exp of ALL the scores: log(e^ℓa + e^ℓb) = "
                             "torch.logaddexp(ℓa, ℓb) — not max(ℓa, ℓb) (that is only the running max) and not ℓa + ℓb.",
                          zh="合并后的 lse 是全部分数的 log-sum-exp：log(e^ℓa + e^ℓb) = torch.logaddexp(ℓa, ℓb)——"
                             "不是 max(ℓa, ℓb)（那只是运行最大值），也不是 ℓa + ℓb。"),
                 likely=likely_lse)
    expect_close(o, o_want, say(en=f"{what.en}: output vs SDPA over all 10 keys",
                                zh=f"{what.zh}：输出与全部 10 个键上的 SDPA 比较"), atol=1e-5,
                 hint=say(en="Each side's output is already normalized over its own keys, so weight it by its share of "
                             "the total softmax mass, e^(ℓa − ℓ) and e^(ℓb − ℓ) (they sum to 1) — not 1/2 each, and do "
                             "not leave the weights unnormalized. " + HINT.en,
                          zh="每一侧的输出已经在自己的键上归一化，所以要按它占 softmax 总质量的比例加权："
                             "e^(ℓa − ℓ) 和 e^(ℓb − ℓ)（两者之和为 1）——不是各 1/2，也不能让权重不归一化。" + HINT.zh),
                 likely=likely_o)


def test_weights_scale_query_rows_when_L_equals_d(impl):
    # With L == d a weight of shape (..., L) broadcasts silently along the feature dim instead of the query dim.
    args, (o_want, lse_want) = split_case(1, lead=(2,), L=5, d=5, dv=5, s_a=4, s_b=4, spread=1.5)
    o, lse = call(impl, args, say(en="merge_attention with L = d = dv = 5", zh="L = d = dv = 5 时的 merge_attention"))
    expect_close(o, o_want, say(en="merged output with L = d = dv = 5", zh="L = d = dv = 5 时合并后的输出"), atol=1e-5,
                 hint=say(en="The weights e^(ℓa − ℓ) have shape (..., L): add a trailing dim (.unsqueeze(-1)) so that "
                             "weight i multiplies query i's row; without it they broadcast along the feature dim.",
                          zh="权重 e^(ℓa − ℓ) 的形状是 (..., L)：要加一个末尾维度（.unsqueeze(-1)），让第 i 个权重乘以"
                             "第 i 个查询的那一行；不加的话它们会沿特征维广播。"),
                 likely=likely_merge_mistakes(args)[0])


def test_stable_when_the_two_lse_differ_by_1e4(impl):
    args, _ = split_case(2, lead=(3,), L=4, d=4, dv=4)
    o_a, _, o_b, _ = args
    g = torch.Generator().manual_seed(3)
    base = torch.randn(3, 4, generator=g)
    for lse_a, lse_b, case in ((base, base + 1e4, "ℓb = ℓa + 1e4"), (base + 1e4, base, "ℓa = ℓb + 1e4")):
        what = say(en=f"merge_attention with {case}", zh=f"{case} 时的 merge_attention")
        o, lse = call(impl, (o_a, lse_a, o_b, lse_b), what)
        o_want = o_b if lse_b[0, 0] > lse_a[0, 0] else o_a
        lse_want = torch.maximum(lse_a.double(), lse_b.double()).float()
        hint = say(en="Never exponentiate an lse itself, and do not anchor on side a (ℓa + log1p(e^(ℓb − ℓa))): "
                      "e^10000 overflows to inf and inf/inf is NaN. Subtract the larger lse first (torch.logaddexp "
                      "does), so every exponent is ≤ 0.",
                   zh="永远不要直接对 lse 取指数，也不要固定以 a 侧为基准（ℓa + log1p(e^(ℓb − ℓa))）：e^10000 会溢出成 "
                      "inf，inf/inf 是 NaN。先减去较大的那个 lse（torch.logaddexp 就是这样做的），让每个指数都 ≤ 0。")
        expect_close(lse, lse_want, say(en=f"{what.en}: lse (the larger side dominates completely)",
                                        zh=f"{what.zh}：lse（较大的一侧完全占主导）"), atol=5e-3, rtol=1e-6,
                     hint=hint)
        expect_close(o, o_want, say(en=f"{what.en}: output (the larger side dominates completely)",
                                    zh=f"{what.zh}：输出（较大的一侧完全占主导）"), atol=1e-5, hint=hint)


def test_stable_when_both_lse_are_large(impl):
    o_a, o_b = torch.randn(2, 3, 4), torch.randn(2, 3, 4)
    lse_a = torch.tensor([[1e4, 1e4 + 0.5, -1e4], [5e3, 8e3, 9e3 + 1.0]])
    lse_b = torch.tensor([[1e4 + 1.0, 1e4, -1e4 + 2.0], [5e3 - 0.25, 8e3 + 3.0, 9e3]])
    a64, b64 = lse_a.double(), lse_b.double()
    lse_want = torch.logaddexp(a64, b64)
    w_a = torch.sigmoid(a64 - b64).unsqueeze(-1)  # e^ℓa / (e^ℓa + e^ℓb), written stably
    o_want = (w_a * o_a.double() + (1 - w_a) * o_b.double()).float()
    # At |ℓ| ~ 1e4 float32 rounds ℓ by up to 5e-4, so the weights e^(ℓa − ℓ) carry that relative error.
    what = say(en="merge_attention with lse around ±1e4 that differ by at most 3",
               zh="lse 在 ±1e4 附近、相差至多 3 时的 merge_attention")
    o, lse = call(impl, (o_a, lse_a, o_b, lse_b), what)
    hint = say(en="e^(±1e4) overflows or underflows in float32 (and float64). Work with differences: ℓ = m + "
                  "log(e^(ℓa − m) + e^(ℓb − m)) with m = max(ℓa, ℓb), i.e. torch.logaddexp, and weights e^(ℓa − ℓ), "
                  "e^(ℓb − ℓ).",
               zh="e^(±1e4) 在 float32（以及 float64）下会上溢或下溢。要用差值计算：ℓ = m + log(e^(ℓa − m) + "
                  "e^(ℓb − m))，其中 m = max(ℓa, ℓb)，即 torch.logaddexp；权重为 e^(ℓa − ℓ)、e^(ℓb − ℓ)。")
    likely_o, likely_lse = likely_merge_mistakes((o_a, lse_a, o_b, lse_b))
    expect_close(lse, lse_want.float(), say(en=f"{what.en}: lse", zh=f"{what.zh}：lse"), atol=5e-3, rtol=1e-6,
                 hint=hint, likely=likely_lse)
    expect_close(o, o_want, say(en=f"{what.en}: output", zh=f"{what.zh}：输出"), atol=3e-3, rtol=1e-3, hint=hint,
                 likely=likely_o)


def test_a_fully_masked_side_contributes_nothing(impl):
    args, _ = split_case(4, lead=(2,), L=3, d=4, dv=4)
    o_a, lse_a, o_b, lse_b = args
    empty_o = torch.randn(2, 3, 4, generator=torch.Generator().manual_seed(5))  # finite, but must get weight 0
    empty_lse = torch.full((2, 3), float("-inf"))
    hint = say(en="A side with lse = -inf has no keys: its weight e^(-inf − ℓ) is 0 and ℓ = the other lse. NaN appears "
                  "when an expression computes -inf − (-inf) or inf − inf, e.g. ℓa + log1p(e^(ℓb − ℓa)) with ℓa = "
                  "-inf; torch.logaddexp handles -inf.",
               zh="lse = -inf 的一侧没有键：它的权重 e^(-inf − ℓ) 为 0，ℓ 等于另一侧的 lse。表达式里出现 "
                  "-inf − (-inf) 或 inf − inf 时就会得到 NaN，例如 ℓa = -inf 时的 ℓa + log1p(e^(ℓb − ℓa))；"
                  "torch.logaddexp 能正确处理 -inf。")
    for args_, keep, side in (((empty_o, empty_lse, o_b, lse_b), (o_b, lse_b), "a"),
                              ((o_a, lse_a, empty_o, empty_lse), (o_a, lse_a), "b")):
        what = say(en=f"merge_attention with side {side} fully masked (lse_{side} = -inf, o_{side} random but finite)",
                   zh=f"{side} 侧被完全掩码时的 merge_attention（lse_{side} = -inf，o_{side} 随机但有限）")
        o, lse = call(impl, args_, what)
        expect_close(lse, keep[1], say(en=f"{what.en}: lse", zh=f"{what.zh}：lse"), atol=1e-6, hint=hint)
        expect_close(o, keep[0], say(en=f"{what.en}: output", zh=f"{what.zh}：输出"), atol=1e-6, hint=hint)


def test_associative_and_equal_to_attention_over_three_sets(impl):
    g = torch.Generator().manual_seed(6)
    q = torch.randn(2, 4, 5, generator=g)
    k, v = torch.randn(2, 12, 5, generator=g), torch.randn(2, 12, 3, generator=g)
    parts = [tuple(t.float() for t in partial(q, k[:, a:b], v[:, a:b])) for a, b in ((0, 2), (2, 7), (7, 12))]
    (o1, l1), (o2, l2), (o3, l3) = parts
    left = impl.merge_attention(*impl.merge_attention(o1, l1, o2, l2), o3, l3)
    right = impl.merge_attention(o1, l1, *impl.merge_attention(o2, l2, o3, l3))
    o_all, lse_all = (t.float() for t in partial(q, k, v))
    hint = say(en="Merging is associative: (A ∪ B) ∪ C = A ∪ (B ∪ C), so both orders must give attention over all 12 "
                  "keys. " + HINT.en,
               zh="合并满足结合律：(A ∪ B) ∪ C = A ∪ (B ∪ C)，所以两种顺序都必须得到全部 12 个键上的注意力。" + HINT.zh)
    for name, (o, lse) in (("merge(merge(A, B), C)", left), ("merge(A, merge(B, C))", right)):
        expect_close(lse, lse_all, say(en=f"{name}: lse vs logsumexp over all 12 keys",
                                       zh=f"{name}：lse 与全部 12 个键上的 logsumexp 比较"), atol=1e-5, hint=hint)
        expect_close(o, o_all, say(en=f"{name}: output vs SDPA over all 12 keys",
                                   zh=f"{name}：输出与全部 12 个键上的 SDPA 比较"), atol=1e-5, hint=hint)


def test_deterministic(impl):
    args, _ = split_case(7, lead=(1,), L=3, d=2, dv=2)
    expect_deterministic(impl.merge_attention, *args, what="merge_attention")


@given(st.lists(st.integers(1, 3), min_size=0, max_size=2), st.integers(1, 5), st.integers(1, 5),
       st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**16))
def test_property_any_split(impl, lead, L, d, s_a, s_b, seed):
    args, (o_want, lse_want) = split_case(seed, lead=tuple(lead), L=L, d=d, dv=d + 1, s_a=s_a, s_b=s_b, spread=2.0)
    shape = tuple(args[0].shape)
    o, lse = call(impl, args, say(en=f"merge_attention on o of shape {shape}", zh=f"o 形状为 {shape} 时的 merge_attention"))
    likely_o, likely_lse = likely_merge_mistakes(args)
    expect_close(lse, lse_want, say(en=f"merged lse, o of shape {shape}, {s_a} + {s_b} keys",
                                    zh=f"合并后的 lse，o 形状为 {shape}，{s_a} + {s_b} 个键"), atol=1e-4,
                 rtol=1e-4, hint=HINT, likely=likely_lse)
    expect_close(o, o_want, say(en=f"merged output, o of shape {shape}, {s_a} + {s_b} keys",
                                zh=f"合并后的输出，o 形状为 {shape}，{s_a} + {s_b} 个键"), atol=1e-4,
                 rtol=1e-4, hint=HINT, likely=likely_o)
