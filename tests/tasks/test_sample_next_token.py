"""sample-next-token: temperature, top-k and top-p (nucleus) filtering, then sampling.

The oracle sorts each row in plain Python (float64), keeps the top k, renormalizes and walks down the sorted
probabilities until their sum reaches top_p — the crossing token included.
"""
import math

import torch
from hypothesis import assume, given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_tensor, expect_unchanged, say

HINT = say(en="Order: logits / temperature; keep the top_k; softmax over what is left; sort descending and keep tokens "
              "until the running sum reaches top_p — the token that crosses top_p stays, and the top token always "
              "stays. Removed logits become -inf; kept ones stay logits / temperature.",
           zh="顺序：logits / temperature；保留 top_k 个；对剩下的做 softmax；按概率降序排列，一直保留到累计和达到 top_p"
              "——使累计和越过 top_p 的那个词元也保留，概率最高的词元总是保留。被去掉的 logits 设为 -inf，保留的仍是 "
              "logits / temperature。")
CROSSING = say(en="The token whose probability makes the running sum reach top_p is kept too (the smallest set with "
                  "sum >= top_p), so the top token always survives.",
               zh="使累计和达到 top_p 的那个词元也要保留（取累计和 >= top_p 的最小集合），所以概率最高的词元一定会留下。")
MISTAKES = (
    (dict(k_extra=1), say(en="top-k keeps k + 1 tokens: the threshold is the k-th largest logit, sorted[..., k - 1] "
                             "(0-based), not sorted[..., k].",
                          zh="top-k 保留了 k + 1 个词元：阈值应是第 k 大的 logit，即 sorted[..., k - 1]（从 0 开始计），"
                             "而不是 sorted[..., k]。")),
    (dict(p_first=True), say(en="top-p was applied to the unfiltered distribution before top-k; apply top-k first, "
                                "then top-p on the renormalized remainder.",
                             zh="在 top-k 之前就对未过滤的分布做了 top-p；应先做 top-k，再对重新归一化后的剩余部分做 top-p。")),
    (dict(p_at_t1=True), say(en="the nucleus was chosen at temperature 1; divide the logits by the temperature FIRST, so "
                                "the temperature changes which tokens survive.",
                             zh="在温度为 1 时就选了核（nucleus）；应先把 logits 除以 temperature，温度才会影响保留哪些词元。")),
    (dict(strict=True), say(en="the token that crosses top_p was dropped (the kept mass is below top_p). " + CROSSING.en,
                            zh="越过 top_p 的那个词元被去掉了（保留的概率和小于 top_p）。" + CROSSING.zh)),
)
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


def kept_by(logits, temperature=1.0, top_k=None, top_p=None, *, k_extra=0, p_first=False, p_at_t1=False,
            strict=False):
    """Kept token ids per row under the rule, or under one of the usual mistakes (the keyword flags)."""
    out = []
    for raw in logits.double().tolist():
        row = [v / (1.0 if p_at_t1 else temperature) for v in raw]
        order = sorted(range(len(row)), key=lambda i: -row[i])

        def nucleus(ids):
            m = row[ids[0]]
            weights = [math.exp(row[i] - m) for i in ids]
            total, running, kept = sum(weights), 0.0, []
            for i, w in zip(ids, weights):
                running += w / total
                if strict and running > top_p:
                    break
                kept.append(i)
                if running >= top_p:
                    break
            return kept

        k = None if top_k is None else top_k + k_extra
        if p_first and top_p is not None:
            kept = nucleus(order)
            kept = [i for i in order if i in kept][:k]
        else:
            kept = order[:k]
            if top_p is not None:
                kept = nucleus(kept)
        out.append(sorted(kept))
    return out


def cause_of(got_sets, logits, **kw):
    """The usual mistake(s) that keep exactly `got_sets`, else the general hint."""
    causes = [cause for flags, cause in MISTAKES if got_sets == kept_by(logits, **kw, **flags)]
    if not causes:
        return HINT
    if len(causes) == 1:
        return say(en=f"Your result is exactly what a known mistake gives: {causes[0].en}",
                   zh=f"你的结果与一个常见错误的结果完全一致：{causes[0].zh}")
    return say(en="Your result is exactly what each of these known mistakes gives: "
                  + " ".join(f"({i}) {c.en}" for i, c in enumerate(causes, 1)),
               zh="你的结果与下面每个常见错误的结果都完全一致：" + " ".join(f"({i}) {c.zh}" for i, c in enumerate(causes, 1)))


def kept_sets(filtered):
    return [sorted(torch.isfinite(row).nonzero().flatten().tolist()) for row in filtered]


def check_filter(impl, logits, what, **kw):
    got = impl.filter_logits(logits.clone(), **kw)
    want = oracle(logits, **kw)
    expect_tensor(got, what, shape=tuple(logits.shape), dtype=logits.dtype)
    got_sets, want_sets = kept_sets(got), kept_sets(want)
    cause = cause_of(got_sets, logits, **kw) if got_sets != want_sets else HINT
    for b, (g_set, w_set) in enumerate(zip(got_sets, want_sets)):
        expect(g_set == w_set, say(en=f"{what}: row {b} keeps tokens {g_set}, expected {w_set}. {cause.en}",
                                   zh=f"{what}：第 {b} 行保留了词元 {g_set}，应为 {w_set}。{cause.zh}"))
    expect_close(got, want, what, atol=1e-5,
                 hint=say(en="The right tokens are kept, but their values are not: kept entries are logits / temperature "
                             "(not probabilities, not renormalized); removed ones are -inf.",
                          zh="保留的词元对了，但数值不对：保留的位置应是 logits / temperature（不是概率，也不重新归一化），"
                             "去掉的位置是 -inf。"))


def test_temperature_only_rescales(impl):
    logits = torch.tensor([[1.0, -2.0, 0.5, 3.0], [0.0, 0.0, 1.0, -1.0]])
    for t in (0.5, 1.0, 2.0):
        check_filter(impl, logits, f"filter_logits(logits, temperature={t})", temperature=t)


def test_top_k_hand_example(impl):
    logits = torch.tensor([[1.0, 3.0, 2.0, 0.5], [-1.0, -3.0, 0.0, 4.0]])
    got = impl.filter_logits(logits, top_k=2)
    want = torch.tensor([[NEG_INF, 3.0, 2.0, NEG_INF], [NEG_INF, NEG_INF, 0.0, 4.0]])
    expect_close(got, want, "filter_logits(logits, top_k=2)", atol=1e-6,
                 hint=cause_of(kept_sets(got), logits, top_k=2) if kept_sets(got) != kept_sets(want) else
                 say(en="Keep exactly the 2 largest logits of each row; set the others to -inf.",
                     zh="每行只保留最大的 2 个 logits，其余设为 -inf。"))


def test_top_p_keeps_the_token_that_crosses_the_threshold(impl):
    # Probabilities, in vocabulary order: 0.15, 0.5, 0.05, 0.3. Sorted: 0.5, 0.3, 0.15, 0.05;
    # running sums 0.5, 0.8, 0.95, 1.0.
    logits = torch.tensor([[0.15, 0.5, 0.05, 0.3]]).log()
    for top_p, keep in ((0.4, [1]), (0.7, [1, 3]), (0.85, [1, 3, 0]), (0.97, [1, 3, 0, 2])):
        got = impl.filter_logits(logits, top_p=top_p)
        expect_tensor(got, f"filter_logits(logits, top_p={top_p})", shape=(1, 4), dtype=torch.float32)
        expect(kept_sets(got)[0] == sorted(keep),
               say(en=f"filter_logits with probabilities [0.15, 0.5, 0.05, 0.3] and top_p={top_p} kept tokens "
                      f"{kept_sets(got)[0]}, expected {sorted(keep)}: the sorted running sum is 0.5, 0.8, 0.95, 1.0. "
                      + CROSSING.en,
                   zh=f"概率为 [0.15, 0.5, 0.05, 0.3]、top_p={top_p} 时 filter_logits 保留了词元 {kept_sets(got)[0]}，"
                      f"应为 {sorted(keep)}：降序排列后的累计和是 0.5、0.8、0.95、1.0。" + CROSSING.zh))
        want = torch.where(torch.isin(torch.arange(4), torch.tensor(keep)), logits, torch.tensor(NEG_INF))
        expect_close(got, want, f"filter_logits(logits, top_p={top_p})", atol=1e-6,
                     hint=say(en="Kept entries keep their logits (here log-probabilities) unchanged; removed ones are -inf.",
                              zh="保留的位置 logits（这里就是对数概率）保持不变；去掉的位置是 -inf。"))


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
    expect_unchanged(before, logits, say(en="the logits passed to filter_logits", zh="传给 filter_logits 的 logits"))
    impl.sample_next_token(logits, temperature=0.7, top_k=4, top_p=0.8, generator=torch.Generator().manual_seed(0))
    expect_unchanged(before, logits, say(en="the logits passed to sample_next_token", zh="传给 sample_next_token 的 logits"))


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
    rows = (tokens != logits.argmax(-1)).nonzero().flatten().tolist()[:10]
    expect(torch.equal(tokens, logits.argmax(dim=-1)),
           say(en=f"sample_next_token with top_k=1 must return the argmax of every row; rows {rows} differ — sample "
                  "from the FILTERED logits, where only the top token is left.",
               zh=f"top_k=1 时 sample_next_token 必须返回每一行的 argmax；第 {rows} 行不一致——应从过滤后的 logits 采样，"
                  "那里只剩概率最高的词元。"))
    tokens = impl.sample_next_token(logits, temperature=0.3, top_k=1, top_p=0.9, generator=g)
    expect(torch.equal(tokens, logits.argmax(dim=-1)),
           say(en="sample_next_token with top_k=1 (and temperature=0.3, top_p=0.9) must return the argmax of every row.",
               zh="top_k=1（且 temperature=0.3、top_p=0.9）时 sample_next_token 必须返回每一行的 argmax。"))


def empirical(impl, row, n, seed, **kw):
    g = torch.Generator().manual_seed(seed)
    tokens = impl.sample_next_token(row.expand(n, -1).clone(), generator=g, **kw)
    expect_tensor(tokens, f"sample_next_token(logits ({n}, {row.numel()}), ...)", shape=(n,), dtype=torch.int64)
    expect(bool(((tokens >= 0) & (tokens < row.numel())).all()),
           say(en="sample_next_token returned a token id outside 0..V-1", zh="sample_next_token 返回了 0..V-1 以外的词元 id"))
    return torch.bincount(tokens, minlength=row.numel()).double() / n


@torch.no_grad()
def test_frequencies_match_the_filtered_softmax(impl):
    # 20 000 draws: the standard error of a frequency is at most 0.0036; we allow 0.02.
    row = torch.tensor([2.0, 1.2, 0.7, 0.3, -0.2, -1.0, 0.9])
    for kw in (dict(), dict(temperature=0.8, top_k=5, top_p=0.85), dict(temperature=1.5, top_p=0.7)):
        want = oracle(row.unsqueeze(0), **kw).double().softmax(-1)[0]
        freq = empirical(impl, row, 20_000, seed=3, **kw)
        args = ", ".join(f"{k}={v}" for k, v in kw.items()) or "default arguments"
        drawn = (freq * (want == 0)).nonzero().flatten().tolist()
        expect(bool((freq[want == 0] == 0).all()),
               say(en=f"sample_next_token({args}) drew filtered-out tokens {drawn}; sample from "
                      "softmax(filter_logits(...)), never from the unfiltered logits.",
                   zh=f"sample_next_token({args}) 抽到了已被过滤掉的词元 {drawn}；应从 softmax(filter_logits(...)) 采样，"
                      "不能从未过滤的 logits 采样。"))
        worst = int((freq - want).abs().argmax())
        expect(bool(((freq - want).abs() < 0.02).all()),
               say(en=f"sample_next_token({args}): token {worst} was drawn with frequency {float(freq[worst]):.4f} in "
                      f"20 000 draws, but its probability after filtering is {float(want[worst]):.4f}: sample with "
                      "torch.multinomial(softmax(filtered logits), 1) — the temperature is already in the filtered "
                      "logits, do not apply it twice.",
                   zh=f"sample_next_token({args})：在 20 000 次抽样中词元 {worst} 的频率是 {float(freq[worst]):.4f}，"
                      f"但过滤后它的概率是 {float(want[worst]):.4f}：应用 torch.multinomial(softmax(过滤后的 logits), 1) "
                      "采样——温度已经包含在过滤后的 logits 里，不要再除一次。"))


def test_generator_makes_draws_reproducible(impl):
    logits = torch.randn(200, 6, generator=torch.Generator().manual_seed(4))
    a = impl.sample_next_token(logits, temperature=1.2, top_p=0.9, generator=torch.Generator().manual_seed(7))
    b = impl.sample_next_token(logits, temperature=1.2, top_p=0.9, generator=torch.Generator().manual_seed(7))
    expect_tensor(a, "sample_next_token(logits (200, 6), ...)", shape=(200,), dtype=torch.int64)
    expect(torch.equal(a, b),
           say(en="two calls with generators seeded the same gave different tokens; draw with the `generator` passed "
                  "in, e.g. torch.multinomial(probs, 1, generator=generator).",
               zh="用相同种子的 generator 调用两次，得到的词元却不同；抽样时要用传入的 `generator`，例如 "
                  "torch.multinomial(probs, 1, generator=generator)。"))
