"""logits-processors: CTRL's repetition penalty (with its sign rule) and min-p filtering.

Oracles: a plain Python loop over each row's distinct previous tokens, and min-p thresholds computed from float64
probabilities, with inputs drawn away from the threshold so that float32 rounding cannot flip a decision.
"""
import math

import torch
from hypothesis import assume, given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor, expect_unchanged, say
from genprep.learner.lang import part

NEG_INF = float("-inf")
PENALTY_HINT = say(en="For every DISTINCT token id in the row's own prev_tokens: logit / penalty if the logit is > 0, "
                      "logit * penalty otherwise. Other entries stay as they are.",
                   zh="对该行自己的 prev_tokens 中每个【不同的】token id：logit > 0 时除以 penalty，否则乘以 penalty。"
                      "其他位置保持不变。")
MIN_P_HINT = say(en="p = softmax(logits) per row; a token is removed (-inf) when p < min_p * (the row's largest p); kept "
                    "tokens keep their original logits.",
                 zh="每行 p = softmax(logits)；当 p < min_p *（该行最大的 p）时移除该 token（置为 -inf）；"
                    "保留的 token 保持原始 logits。")
ALWAYS_DIVIDES = say(en="every repeated logit divided by the penalty, so a negative one goes UP (−1 / 2 = −0.5); multiply "
                        "negative logits: torch.where(logit > 0, logit / penalty, logit * penalty).",
                     zh="所有重复 token 的 logit 都除以了 penalty，负的 logit 反而变大（−1 / 2 = −0.5）；负的 logit 要乘："
                        "torch.where(logit > 0, logit / penalty, logit * penalty)。")
EACH_OCCURRENCE = say(en="the penalty applied once per occurrence (a token seen 3 times gets penalty³); penalize each "
                         "distinct token once, e.g. with a (B, V) 'seen' mask.",
                      zh="每出现一次就惩罚一次（出现 3 次的 token 被惩罚成 penalty³）；每个不同的 token 只惩罚一次，"
                         "例如用一个 (B, V) 的“已出现”掩码。")
POOLED = say(en="the previous tokens of the whole batch pooled and penalized in every row; prev_tokens[b] penalizes row "
                "b only.",
             zh="把整个 batch 的历史 token 合在一起，并在每一行都做了惩罚；prev_tokens[b] 只惩罚第 b 行。")


def likely_penalty_mistakes(logits, prev_tokens, penalty):
    """What the usual repetition-penalty mistakes give, each with its cause."""
    x = logits.double()
    divided, each, pooled = x.clone(), x.clone(), x.clone()
    every = set(prev_tokens.flatten().tolist())
    for b in range(x.size(0)):
        for tok in set(prev_tokens[b].tolist()):
            divided[b, tok] = divided[b, tok] / penalty
        for tok in prev_tokens[b].tolist():
            v = each[b, tok].item()
            each[b, tok] = v / penalty if v > 0 else v * penalty
        for tok in every:
            v = pooled[b, tok].item()
            pooled[b, tok] = v / penalty if v > 0 else v * penalty
    return ((divided.float(), ALWAYS_DIVIDES), (each.float(), EACH_OCCURRENCE), (pooled.float(), POOLED))


def min_p_cause(logits, min_p, got_sets):
    """The cause of a wrong kept set: a known mistake's set if it matches, else MIN_P_HINT."""
    absolute, on_logits = [], []
    for row in logits.double().tolist():
        m = max(row)
        probs = [math.exp(v - m) for v in row]
        probs = [p / sum(probs) for p in probs]
        absolute.append([i for i, p in enumerate(probs) if p >= min_p])
        on_logits.append([i for i, v in enumerate(row) if v >= min_p * m])
    if got_sets == absolute:
        return say(en="Your kept sets are what a known mistake gives: the threshold min_p itself; it is relative, "
                      "min_p × the row's largest probability.",
                   zh="你保留的集合与一个常见错误的结果一致：阈值直接用了 min_p；阈值是相对的，应为 min_p × 该行最大概率。")
    if got_sets == on_logits:
        return say(en="Your kept sets are what a known mistake gives: the rule applied to the raw logits; compare the "
                      "softmax probabilities with min_p × the largest probability.",
                   zh="你保留的集合与一个常见错误的结果一致：把规则用在了原始 logits 上；应比较 softmax 概率与 "
                      "min_p × 最大概率。")
    return MIN_P_HINT


def penalty_oracle(logits, prev_tokens, penalty):
    out = logits.double().clone()
    for b in range(logits.size(0)):
        for tok in set(prev_tokens[b].tolist()):  # each distinct token once
            v = out[b, tok].item()
            out[b, tok] = v / penalty if v > 0 else v * penalty
    return out.to(logits.dtype)


def min_p_kept(logits, min_p):
    """Kept token ids per row and the smallest relative distance of any probability to its row's threshold."""
    kept, margin = [], math.inf
    for row in logits.double().tolist():
        m = max(row)
        probs = [math.exp(v - m) for v in row]
        total = sum(probs)
        probs = [p / total for p in probs]
        threshold = min_p * max(probs)
        kept.append([i for i, p in enumerate(probs) if p >= threshold])
        if threshold > 0:
            margin = min(margin, min(abs(p - threshold) / threshold for p in probs))
    return kept, margin


def kept_sets(filtered):
    return [torch.isfinite(row).nonzero().flatten().tolist() for row in filtered]


def check_min_p(impl, logits, min_p, what):
    got = impl.min_p_filter(logits.clone(), min_p)
    expect_tensor(got, what, shape=tuple(logits.shape), dtype=logits.dtype)
    want_sets, _ = min_p_kept(logits, min_p)
    cause = min_p_cause(logits, min_p, kept_sets(got))
    for b, (g_set, w_set) in enumerate(zip(kept_sets(got), want_sets)):
        expect(g_set == w_set,
               say(en=f"{part(what, 'en')}: row {b} keeps tokens {g_set}, expected {w_set}. {cause.en}",
                   zh=f"{part(what, 'zh')}：第 {b} 行保留了 token {g_set}，应为 {w_set}。{cause.zh}"))
    keep = torch.isfinite(got)
    want = torch.where(keep, logits, torch.tensor(NEG_INF))
    expect_close(got, want, what, atol=1e-6,
                 hint=say(en="Kept entries must be the original logits (no softmax, no renormalization); removed ones "
                             "-inf.",
                          zh="保留的位置必须是原始 logits（不做 softmax，不重新归一化）；移除的位置为 -inf。"))


def test_repetition_penalty_hand_example(impl):
    logits = torch.tensor([[2.0, -1.0, 0.5, 3.0, -4.0]])
    prev = torch.tensor([[0, 1, 4]])
    got = impl.repetition_penalty(logits, prev, 2.0)
    want = torch.tensor([[1.0, -2.0, 0.5, 3.0, -8.0]])
    expect_tensor(got, "repetition_penalty(logits (1, 5), prev_tokens [[0, 1, 4]], 2.0)", shape=(1, 5),
                  dtype=torch.float32)
    expect_close(got, want, "repetition_penalty([[2, -1, 0.5, 3, -4]], prev_tokens [[0, 1, 4]], penalty=2)",
                 atol=1e-6, hint=PENALTY_HINT, likely=likely_penalty_mistakes(logits, prev, 2.0))


def test_a_negative_logit_is_multiplied_so_it_goes_down(impl):
    # Dividing -1 by 2 gives -0.5: the "penalty" would RAISE the token's probability.
    logits = torch.tensor([[-1.0, 0.3, -0.2, 1.5]])
    prev = torch.tensor([[0, 2]])
    got = impl.repetition_penalty(logits, prev, 2.0)
    expect_close(got, torch.tensor([[-2.0, 0.3, -0.4, 1.5]]),
                 say(en="repetition_penalty on negative logits [-1, ·, -0.2, ·] of tokens 0 and 2, penalty 2",
                     zh="token 0 和 2 的 logit 为负（[-1, ·, -0.2, ·]）、penalty 为 2 时的 repetition_penalty"), atol=1e-6,
                 hint=say(en="A negative logit must be MULTIPLIED by the penalty (-1 → -2). Dividing it (-1 → -0.5) "
                             "makes a repeated token more likely, the opposite of a penalty: use torch.where(logit > 0, "
                             "logit / penalty, logit * penalty).",
                          zh="负的 logit 必须【乘以】penalty（-1 → -2）。除以它（-1 → -0.5）会让重复的 token 更可能出现，"
                             "与惩罚的本意相反：用 torch.where(logit > 0, logit / penalty, logit * penalty)。"),
                 likely=likely_penalty_mistakes(logits, prev, 2.0))
    expect(bool((got <= logits).all()),
           say(en=f"with penalty 2 > 1 no logit may go up, but got {got.tolist()} from {logits.tolist()}. "
                  + ALWAYS_DIVIDES.en,
               zh=f"penalty 为 2 > 1 时任何 logit 都不能变大，但从 {logits.tolist()} 得到了 {got.tolist()}。"
                  + ALWAYS_DIVIDES.zh))


def test_a_repeated_token_is_penalized_once(impl):
    logits = torch.tensor([[4.0, -2.0, 1.0, 0.5]])
    prev = torch.tensor([[0, 0, 0, 1, 1, 0]])  # token 0 four times, token 1 twice
    got = impl.repetition_penalty(logits, prev, 2.0)
    expect_close(got, torch.tensor([[2.0, -4.0, 1.0, 0.5]]),
                 say(en="repetition_penalty with token 0 four times and token 1 twice in prev_tokens, penalty 2",
                     zh="prev_tokens 中 token 0 出现 4 次、token 1 出现 2 次，penalty 为 2 时的 repetition_penalty"),
                 atol=1e-6,
                 hint=say(en="Each distinct token is penalized ONCE (4 → 2, not 4 / 2⁴): build a (B, V) 'seen' mask "
                             "(e.g. scatter True at prev_tokens) instead of applying the penalty once per occurrence.",
                          zh="每个不同的 token 只惩罚【一次】（4 → 2，而不是 4 / 2⁴）：构造一个 (B, V) 的“已出现”掩码"
                             "（例如在 prev_tokens 处 scatter True），不要每出现一次就惩罚一次。"),
                 likely=likely_penalty_mistakes(logits, prev, 2.0))


def test_rows_use_their_own_previous_tokens(impl):
    logits = torch.tensor([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    prev = torch.tensor([[0, 0], [2, 2]])
    got = impl.repetition_penalty(logits, prev, 4.0)
    expect_close(got, torch.tensor([[0.25, 2.0, 3.0], [1.0, 2.0, 0.75]]),
                 say(en="repetition_penalty with prev_tokens [[0, 0], [2, 2]] (row 0 saw token 0, row 1 token 2)",
                     zh="prev_tokens 为 [[0, 0], [2, 2]]（第 0 行见过 token 0，第 1 行见过 token 2）时的 repetition_penalty"),
                 atol=1e-6,
                 hint=say(en="prev_tokens[b] penalizes row b only; do not pool the tokens of the whole batch.",
                          zh="prev_tokens[b] 只惩罚第 b 行；不要把整个 batch 的 token 合在一起。"),
                 likely=likely_penalty_mistakes(logits, prev, 4.0))


def test_repetition_penalty_random_against_loop(impl):
    g = torch.Generator().manual_seed(0)
    for penalty in (1.3, 2.0, 0.8):
        logits = 3 * torch.randn(4, 11, generator=g)
        prev = torch.randint(0, 11, (4, 7), generator=g)
        what = f"repetition_penalty(logits (4, 11), prev_tokens (4, 7), penalty={penalty})"
        got = expect_deterministic(impl.repetition_penalty, logits, prev, penalty, what=what)
        expect_tensor(got, what, shape=(4, 11), dtype=torch.float32)
        expect_close(got, penalty_oracle(logits, prev, penalty), what, atol=1e-6, hint=PENALTY_HINT,
                     likely=likely_penalty_mistakes(logits, prev, penalty))


def test_penalty_one_changes_nothing(impl):
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(2, 6, generator=g)
    prev = torch.randint(0, 6, (2, 4), generator=g)
    expect_close(impl.repetition_penalty(logits, prev, 1.0), logits,
                 "repetition_penalty(..., penalty=1.0)", atol=0.0, rtol=0.0,
                 hint=say(en="Dividing or multiplying by 1 must leave every logit unchanged.",
                          zh="除以或乘以 1 必须让每个 logit 保持不变。"))


def test_inputs_are_not_modified(impl):
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(3, 8, generator=g)
    prev = torch.randint(0, 8, (3, 5), generator=g)
    before_logits, before_prev = logits.clone(), prev.clone()
    impl.repetition_penalty(logits, prev, 1.5)
    expect_unchanged(before_logits, logits, say(en="logits passed to repetition_penalty", zh="传给 repetition_penalty 的 logits"))
    expect_unchanged(before_prev, prev, say(en="prev_tokens passed to repetition_penalty",
                                            zh="传给 repetition_penalty 的 prev_tokens"))
    impl.min_p_filter(logits, 0.3)
    expect_unchanged(before_logits, logits, say(en="logits passed to min_p_filter", zh="传给 min_p_filter 的 logits"))


def test_min_p_hand_example(impl):
    # Probabilities 0.5, 0.3, 0.15, 0.05: thresholds are min_p × 0.5.
    logits = torch.tensor([[0.5, 0.3, 0.15, 0.05]]).log()
    for min_p, keep in ((0.05, [0, 1, 2, 3]), (0.2, [0, 1, 2]), (0.5, [0, 1]), (0.9, [0])):
        got = impl.min_p_filter(logits, min_p)
        expect_tensor(got, f"min_p_filter(logits, {min_p})", shape=(1, 4), dtype=torch.float32)
        cause = min_p_cause(logits, min_p, kept_sets(got))
        expect(kept_sets(got)[0] == keep,
               say(en=f"min_p_filter on probabilities [0.5, 0.3, 0.15, 0.05] with min_p={min_p} kept tokens "
                      f"{kept_sets(got)[0]}, expected {keep}: the threshold is min_p × 0.5 = {min_p * 0.5:g}, relative "
                      f"to the LARGEST probability. {cause.en}",
                   zh=f"概率为 [0.5, 0.3, 0.15, 0.05]、min_p={min_p} 时 min_p_filter 保留了 token {kept_sets(got)[0]}，"
                      f"应为 {keep}：阈值是 min_p × 0.5 = {min_p * 0.5:g}，相对于【最大】概率。{cause.zh}"))
        check_min_p(impl, logits, min_p, f"min_p_filter(probabilities [0.5, 0.3, 0.15, 0.05], min_p={min_p})")


def test_min_p_zero_keeps_everything(impl):
    g = torch.Generator().manual_seed(3)
    logits = 4 * torch.randn(3, 9, generator=g)
    got = impl.min_p_filter(logits, 0.0)
    expect_close(got, logits, "min_p_filter(logits, 0.0)", atol=0.0, rtol=0.0,
                 hint=say(en="With min_p = 0 the threshold is 0 and no token is removed; kept logits are returned "
                             "unchanged.",
                          zh="min_p = 0 时阈值为 0，不移除任何 token；保留的 logits 原样返回。"))


def test_the_top_token_always_survives(impl):
    # A flat row: every probability is about 0.1, far below an absolute threshold of 0.95 (relative to the top
    # probability every token of that row stays above it); the peaked row keeps only its top token.
    logits = torch.tensor([[0.01, 0.0, -0.02, 0.015, 0.005, -0.01, 0.0, 0.02, -0.005, 0.012],
                           [5.0, 1.0, 0.0, -1.0, 2.0, 0.5, 0.2, 0.1, -3.0, 4.5]])
    got = impl.min_p_filter(logits, 0.95)
    expect_tensor(got, "min_p_filter(logits (2, 10), 0.95)", shape=(2, 10), dtype=torch.float32)
    top = logits.argmax(-1)
    expect(bool(torch.isfinite(got[torch.arange(2), top]).all()),
           say(en=f"min_p_filter(..., 0.95) removed the most probable token of a row (kept {kept_sets(got)}): the "
                  "threshold is min_p × max p ≤ max p, so the top token always survives — compare with min_p × max p, "
                  "not with min_p.",
               zh=f"min_p_filter(..., 0.95) 把某一行概率最大的 token 移除了（保留的是 {kept_sets(got)}）：阈值是 "
                  "min_p × max p ≤ max p，所以最大的那个 token 一定保留——要与 min_p × max p 比较，而不是与 min_p 比较。"))
    check_min_p(impl, logits, 0.95, say(en="min_p_filter on a flat and a peaked row, min_p=0.95",
                                        zh="一行平坦、一行尖锐且 min_p=0.95 时的 min_p_filter"))


def test_confident_rows_keep_fewer_tokens(impl):
    # Same min_p, a peaked and a flat row: the kept set adapts to the model's confidence.
    logits = torch.tensor([[6.0, 2.0, 1.5, 1.0, 0.5, 0.0], [1.0, 0.9, 0.8, 0.7, 0.6, 0.5]])
    check_min_p(impl, logits, 0.1, say(en="min_p_filter on a peaked row and a flat row, min_p=0.1",
                                       zh="一行尖锐、一行平坦且 min_p=0.1 时的 min_p_filter"))


@given(st.integers(1, 4), st.integers(2, 8), st.sampled_from([0.02, 0.1, 0.3, 0.6]), st.integers(0, 2**16))
def test_property_min_p_random(impl, B, V, min_p, seed):
    g = torch.Generator().manual_seed(seed)
    logits = 3 * torch.randn(B, V, generator=g)
    _, margin = min_p_kept(logits, min_p)
    assume(margin > 1e-3)  # no probability within 0.1% of its threshold
    what = f"min_p_filter(logits {tuple(logits.shape)}, {min_p})"
    got = expect_deterministic(impl.min_p_filter, logits, min_p, what=what)
    expect_tensor(got, what, shape=(B, V), dtype=torch.float32)
    check_min_p(impl, logits, min_p, what)
