"""speculative-decoding: one verification step of speculative sampling (accept/reject, residual, bonus token).

Oracles: a plain float64 loop over the draft tokens; and, for exactness of the output distribution, the first
emitted token's distribution computed from the implementation itself by summing over every draft token and
integrating over the uniform on a grid of cell midpoints. The test distributions are built so that every acceptance
threshold min(1, p_t/p_d) is a multiple of 1/N, so the grid integral is exact, not an estimate; every midpoint lies
1/(2N) away from every threshold, so comparing u < p_t/p_d, u·p_d < p_t or with ≤ cannot tie or round differently.
"""
import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor, expect_unchanged, say

HINT = say(en="For i = 0, 1, …: accept draft_tokens[i] iff uniforms[i] < min(1, target_probs[i, x] / draft_probs[i, x]); "
              "stop at the first rejection i and return (i, normalize(max(0, target_probs[i] − draft_probs[i]))); if all "
              "k are accepted return (k, target_probs[k]).",
           zh="对 i = 0, 1, …：当且仅当 uniforms[i] < min(1, target_probs[i, x] / draft_probs[i, x]) 时接受 "
              "draft_tokens[i]；在第一个被拒绝的 i 处停下，返回 (i, normalize(max(0, target_probs[i] − draft_probs[i])))；"
              "若 k 个全部接受，返回 (k, target_probs[k])。")

INVERTED = say(en="the acceptance ratio is upside down; accept with probability min(1, p_target / p_draft).",
               zh="接受率的比值倒过来了；接受概率应是 min(1, p_target / p_draft)。")
COUNTS_ALL = say(en="n_accepted counts every draft token that passes its own test; count the accepted PREFIX "
                    "(stop at the first rejection).",
                 zh="n_accepted 统计了每个单独通过检验的草稿 token；应只统计被接受的前缀（在第一次拒绝处停下）。")


def n_cause(n, draft_probs, target_probs, draft_tokens, uniforms, default):
    """The cause of the known mistake whose n_accepted equals `n`, else `default`."""
    d, t = draft_probs.double(), target_probs.double()
    k = draft_tokens.numel()
    ratio = t[torch.arange(k), draft_tokens] / d[torch.arange(k), draft_tokens]
    right = oracle(draft_probs, target_probs, draft_tokens, uniforms)[0]
    accepted = uniforms.double() < ratio.clamp(max=1)
    inverted = uniforms.double() < (1 / ratio).clamp(max=1)
    candidates = ((int(accepted.sum()), COUNTS_ALL), (int(inverted.long().cumprod(0).sum()), INVERTED))
    for value, cause in candidates:
        if value != right and n == value:
            return say(en=f"Your result is exactly what a known mistake gives: {cause.en}",
                       zh=f"你的结果与一个常见错误的结果完全一致：{cause.zh}")
    return default


def likely_next_mistakes(draft_probs, target_probs, n):
    """What the usual mistakes return as next_probs when n tokens were accepted, each with its cause."""
    d, t = draft_probs.double(), target_probs.double()
    k = d.size(0)
    if n == k:
        return (((t[k - 1]).float(),
                 say(en="the bonus distribution taken from target_probs[k − 1] (the last draft position); when all k "
                        "drafts are accepted the extra token comes from the target's LAST row, target_probs[k].",
                     zh="额外 token 的分布取自 target_probs[k − 1]（最后一个草稿位置）；k 个草稿全部接受时，额外 token "
                        "来自目标的最后一行 target_probs[k]。")),)
    residual = (t[n] - d[n]).clamp(min=0)
    return ((t[n].float(),
             say(en="after a rejection the replacement is drawn from p_t itself; use the normalized residual "
                    "max(0, p_t − p_d) / Σ max(0, p_t − p_d).",
                 zh="拒绝之后直接从 p_t 本身采样替换 token；应使用归一化的残差 max(0, p_t − p_d) / Σ max(0, p_t − p_d)。")),
            (residual.float(),
             say(en="the residual max(0, p_t − p_d) is not normalized; divide it by its sum.",
                 zh="残差 max(0, p_t − p_d) 没有归一化；要除以它的和。")))


def oracle(draft_probs, target_probs, draft_tokens, uniforms):
    d, t = draft_probs.double(), target_probs.double()
    k = draft_tokens.numel()
    for i in range(k):
        x = int(draft_tokens[i])
        if not uniforms[i].item() < min(1.0, t[i, x].item() / d[i, x].item()):
            residual = (t[i] - d[i]).clamp(min=0)
            return i, residual / residual.sum()
    return k, t[k]


def step(impl, draft_probs, target_probs, draft_tokens, uniforms, what):
    args = [a.clone() for a in (draft_probs, target_probs, draft_tokens, uniforms)]
    result = impl.speculative_step(*args)
    expect(isinstance(result, tuple) and len(result) == 2,
           say(en=f"{what} should return a tuple (n_accepted, next_probs), got {type(result).__name__}",
               zh=f"{what} 应返回元组 (n_accepted, next_probs)，实际得到 {type(result).__name__}"))
    for name, before, after in zip(("draft_probs", "target_probs", "draft_tokens", "uniforms"),
                                   (draft_probs, target_probs, draft_tokens, uniforms), args):
        expect_unchanged(before, after, say(en=f"{name} passed to speculative_step", zh=f"传给 speculative_step 的 {name}"))
    n, next_probs = result
    expect(isinstance(n, int) and not isinstance(n, bool),
           say(en=f"{what}: n_accepted must be a Python int, got {type(n).__name__} {n!r} — use int(...) on a tensor "
                  "count.",
               zh=f"{what}：n_accepted 必须是 Python int，实际是 {type(n).__name__} {n!r}——对张量计数用 int(...)。"))
    expect_tensor(next_probs, say(en=f"next_probs from {what}", zh=f"{what} 返回的 next_probs"),
                  shape=(target_probs.size(-1),), dtype=target_probs.dtype)
    return n, next_probs


def check(impl, draft_probs, target_probs, draft_tokens, uniforms, what):
    n, next_probs = step(impl, draft_probs, target_probs, draft_tokens, uniforms, what)
    want_n, want_next = oracle(draft_probs, target_probs, draft_tokens, uniforms)
    cause = n_cause(n, draft_probs, target_probs, draft_tokens, uniforms, HINT)
    expect(n == want_n, say(en=f"{what}: n_accepted = {n}, expected {want_n}. {cause.en}",
                            zh=f"{what}：n_accepted = {n}，应为 {want_n}。{cause.zh}"))
    expect_close(next_probs, want_next.float(), say(en=f"next_probs from {what} (n_accepted = {want_n})",
                                                    zh=f"{what} 返回的 next_probs（n_accepted = {want_n}）"), atol=1e-6,
                 hint=HINT, likely=likely_next_mistakes(draft_probs, target_probs, want_n))
    return n


def random_case(g, k, V, closeness):
    """Draft and target distributions, draft tokens drawn from the draft, uniforms away from the thresholds."""
    logits = torch.randn(k + 1, V, generator=g)
    target = (logits + closeness * torch.randn(k + 1, V, generator=g)).softmax(-1)
    draft = logits[:k].softmax(-1)
    tokens = torch.multinomial(draft, 1, generator=g).squeeze(-1)
    uniforms = torch.rand(k, generator=g)
    ratio = (target[torch.arange(k), tokens] / draft[torch.arange(k), tokens]).clamp(max=1)
    uniforms = torch.where((uniforms - ratio).abs() < 1e-3, (uniforms + 0.01) % 1.0, uniforms)
    return draft, target, tokens, uniforms


def hand_case():
    draft = torch.tensor([[0.5, 0.2, 0.2, 0.1], [0.1, 0.6, 0.2, 0.1], [0.25, 0.25, 0.25, 0.25]])
    target = torch.tensor([[0.25, 0.25, 0.25, 0.25], [0.1, 0.3, 0.4, 0.2], [0.7, 0.1, 0.1, 0.1], [0.1, 0.2, 0.3, 0.4]])
    tokens = torch.tensor([0, 1, 0])  # acceptance thresholds 0.25/0.5 = 0.5, 0.3/0.6 = 0.5, min(1, 2.8) = 1
    return draft, target, tokens


def test_hand_example_reject_at_the_second_token(impl):
    draft, target, tokens = hand_case()
    uniforms = torch.tensor([0.3, 0.7, 0.1])
    n, next_probs = step(impl, draft, target, tokens, uniforms, say(en="speculative_step(hand case, uniforms [0.3, 0.7, 0.1])",
                                                                    zh="speculative_step(手工例子, uniforms [0.3, 0.7, 0.1])"))
    cause = n_cause(n, draft, target, tokens, uniforms, HINT)
    expect(n == 1, say(en=f"with thresholds [0.5, 0.5, 1] and uniforms [0.3, 0.7, 0.1] token 0 is accepted (0.3 < 0.5) "
                          f"and token 1 rejected (0.7 ≥ 0.5), so n_accepted = 1; got {n}. {cause.en}",
                       zh=f"阈值为 [0.5, 0.5, 1]、uniforms 为 [0.3, 0.7, 0.1] 时，token 0 被接受（0.3 < 0.5），token 1 "
                          f"被拒绝（0.7 ≥ 0.5），所以 n_accepted = 1；实际是 {n}。{cause.zh}"))
    expect_close(next_probs, torch.tensor([0.0, 0.0, 2 / 3, 1 / 3]),
                 say(en="next_probs after rejecting token 1", zh="拒绝 token 1 之后的 next_probs"),
                 atol=1e-6, hint=say(en="At the rejected position 1: max(0, p_t − p_d) = max(0, [0.1−0.1, 0.3−0.6, "
                                        "0.4−0.2, 0.2−0.1]) = [0, 0, 0.2, 0.1], normalized to [0, 0, 2/3, 1/3] — the "
                                        "residual, not p_t itself and not unnormalized.",
                                     zh="在被拒绝的位置 1：max(0, p_t − p_d) = max(0, [0.1−0.1, 0.3−0.6, 0.4−0.2, "
                                        "0.2−0.1]) = [0, 0, 0.2, 0.1]，归一化后为 [0, 0, 2/3, 1/3]——是残差，"
                                        "不是 p_t 本身，也不能不归一化。"),
                 likely=likely_next_mistakes(draft, target, 1))


def test_hand_example_all_accepted_gives_the_bonus_distribution(impl):
    draft, target, tokens = hand_case()
    uniforms = torch.tensor([0.3, 0.2, 0.99])
    n, next_probs = step(impl, draft, target, tokens, uniforms,
                         say(en="speculative_step(hand case, uniforms [0.3, 0.2, 0.99])",
                             zh="speculative_step(手工例子, uniforms [0.3, 0.2, 0.99])"))
    cause = n_cause(n, draft, target, tokens, uniforms, HINT)
    expect(n == 3, say(en=f"with thresholds [0.5, 0.5, 1] and uniforms [0.3, 0.2, 0.99] all 3 tokens are accepted; got "
                          f"n_accepted = {n}. A threshold is min(1, p_t/p_d): 0.99 < min(1, 2.8). {cause.en}",
                       zh=f"阈值为 [0.5, 0.5, 1]、uniforms 为 [0.3, 0.2, 0.99] 时 3 个 token 全部被接受；实际 "
                          f"n_accepted = {n}。阈值是 min(1, p_t/p_d)：0.99 < min(1, 2.8)。{cause.zh}"))
    expect_close(next_probs, target[3], say(en="next_probs when all 3 drafts are accepted", zh="3 个草稿全部接受时的 next_probs"),
                 atol=1e-6,
                 hint=say(en="When every draft token is accepted the extra token comes from the target's LAST row, "
                             "target_probs[k] (here row 3), not from row k − 1.",
                          zh="所有草稿 token 都被接受时，额外 token 来自目标的最后一行 target_probs[k]（这里是第 3 行），"
                             "而不是第 k − 1 行。"))


def test_stops_at_the_first_rejection(impl):
    draft, target, tokens = hand_case()
    n, next_probs = step(impl, draft, target, tokens, torch.tensor([0.6, 0.1, 0.1]),
                         say(en="speculative_step(hand case, uniforms [0.6, 0.1, 0.1])",
                             zh="speculative_step(手工例子, uniforms [0.6, 0.1, 0.1])"))
    expect(n == 0, say(en=f"token 0 is rejected (0.6 ≥ 0.5), so n_accepted must be 0 even though tokens 1 and 2 would "
                          f"pass their own tests; got {n} — count the accepted PREFIX (stop at the first rejection), not "
                          "every accepted token.",
                       zh=f"token 0 被拒绝（0.6 ≥ 0.5），所以即使 token 1 和 2 能各自通过检验，n_accepted 也必须是 0；"
                          f"实际是 {n}——应统计被接受的前缀（在第一次拒绝处停下），而不是所有被接受的 token。"))
    expect_close(next_probs, torch.tensor([0.0, 0.2, 0.2, 0.6]),
                 say(en="next_probs after rejecting token 0", zh="拒绝 token 0 之后的 next_probs"), atol=1e-6,
                 hint=say(en="The residual is taken at the first rejected position (0): max(0, [0.25−0.5, 0.25−0.2, "
                             "0.25−0.2, 0.25−0.1]) normalized = [0, 0.2, 0.2, 0.6].",
                          zh="残差在第一个被拒绝的位置（0）处计算：max(0, [0.25−0.5, 0.25−0.2, 0.25−0.2, 0.25−0.1]) "
                             "归一化后为 [0, 0.2, 0.2, 0.6]。"),
                 likely=likely_next_mistakes(draft, target, 0))


def test_the_ratio_is_target_over_draft(impl):
    # Token 0: p_t = 0.8, p_d = 0.2, so it is always accepted; inverting the ratio would accept it only 25% of the time.
    draft = torch.tensor([[0.2, 0.8]])
    target = torch.tensor([[0.8, 0.2], [0.5, 0.5]])
    n, _ = step(impl, draft, target, torch.tensor([0]), torch.tensor([0.9]),
                say(en="speculative_step with p_t/p_d = 4", zh="p_t/p_d = 4 时的 speculative_step"))
    expect(n == 1, say(en="p_t(x)/p_d(x) = 0.8/0.2 = 4, so the draft token is always accepted; with u = 0.9 you rejected "
                          "it (n_accepted = 0) — the acceptance probability is min(1, p_target / p_draft), not the inverse.",
                       zh="p_t(x)/p_d(x) = 0.8/0.2 = 4，所以草稿 token 总会被接受；u = 0.9 时你却拒绝了它（n_accepted = 0）"
                          "——接受概率是 min(1, p_target / p_draft)，不是它的倒数。"))
    n, _ = step(impl, draft, target, torch.tensor([1]), torch.tensor([0.3]),
                say(en="speculative_step with p_t/p_d = 1/4", zh="p_t/p_d = 1/4 时的 speculative_step"))
    expect(n == 0, say(en="p_t(x)/p_d(x) = 0.2/0.8 = 0.25 and u = 0.3, so the draft token must be rejected; you accepted "
                          "it — the acceptance probability is min(1, p_target / p_draft).",
                       zh="p_t(x)/p_d(x) = 0.2/0.8 = 0.25 且 u = 0.3，所以草稿 token 必须被拒绝；你却接受了它——"
                          "接受概率是 min(1, p_target / p_draft)。"))


def test_identical_models_accept_everything(impl):
    g = torch.Generator().manual_seed(0)
    target = torch.randn(5, 7, generator=g).softmax(-1)
    tokens = torch.multinomial(target[:4], 1, generator=g).squeeze(-1)
    n, next_probs = step(impl, target[:4], target, tokens, torch.tensor([0.0, 0.5, 0.9, 0.999999]),
                         say(en="speculative_step with draft_probs = target_probs[:k]",
                             zh="draft_probs = target_probs[:k] 时的 speculative_step"))
    expect(n == 4, say(en=f"when the draft model equals the target every ratio is 1, so all 4 tokens are accepted for any "
                          f"uniforms in [0, 1); got n_accepted = {n}. Accept when u < min(1, p_t/p_d) (strictly "
                          "less, and the ratio 1 passes every u < 1).",
                       zh=f"草稿模型与目标模型相同时每个比值都是 1，所以对 [0, 1) 中的任何 uniforms，4 个 token 都会被接受；"
                          f"实际 n_accepted = {n}。当 u < min(1, p_t/p_d) 时接受（严格小于，比值为 1 时任何 u < 1 都通过）。"))
    expect_close(next_probs, target[4], say(en="next_probs when the draft equals the target", zh="草稿与目标相同时的 next_probs"),
                 atol=1e-6, hint=HINT, likely=likely_next_mistakes(target[:4], target, 4))


def test_random_cases_against_a_loop(impl):
    g = torch.Generator().manual_seed(1)
    seen = set()
    for case in range(12):
        k, V = 4, 6
        draft, target, tokens, uniforms = random_case(g, k, V, closeness=0.3 + 0.1 * (case % 10))
        seen.add(check(impl, draft, target, tokens, uniforms,
                       say(en=f"speculative_step on random case {case} (k=4, V=6)",
                           zh=f"随机例子 {case}（k=4, V=6）上的 speculative_step")))
    assert len(seen) >= 3, f"the random cases should cover several values of n_accepted, got {sorted(seen)}"


def exact_pair(g, V, N):
    """Draft p_d > 0 and target p_t whose thresholds min(1, p_t/p_d) are all multiples of 1/N."""
    p_d = torch.rand(V, generator=g, dtype=torch.float64) + 0.2
    p_d /= p_d.sum()
    below = torch.zeros(V, dtype=torch.bool)
    below[torch.randperm(V, generator=g)[: max(1, V // 2)]] = True  # tokens the target likes less than the draft
    ratio = torch.randint(1, N, (V,), generator=g).double() / N  # thresholds j / N < 1
    p_t = torch.where(below, p_d * ratio, p_d)
    deficit = 1 - p_t.sum()
    weights = torch.rand(V, generator=g, dtype=torch.float64) + 0.1
    weights = torch.where(below, torch.zeros_like(weights), weights)
    p_t = p_t + deficit * weights / weights.sum()  # the others get more than under the draft: threshold 1
    return p_d.float(), p_t.float()


def first_token_distribution(impl, p_d, p_t, N):
    """P(first emitted token = y): sum over draft tokens x ~ p_d and the uniform u_0 on N cell midpoints."""
    V = p_d.numel()
    later_draft = torch.full((1, V), 1.0 / V)
    later_target = torch.full((2, V), 1.0 / V)
    draft = torch.cat([p_d.unsqueeze(0), later_draft])  # k = 2; position 1 never matters for the first token
    target = torch.cat([p_t.unsqueeze(0), later_target])
    dist = torch.zeros(V, dtype=torch.float64)
    for x in range(V):
        for j in range(N):
            u = torch.tensor([(j + 0.5) / N, 0.5])
            n, next_probs = impl.speculative_step(draft, target, torch.tensor([x, 0]), u)
            weight = p_d[x].item() / N
            if n >= 1:
                dist[x] += weight  # x accepted: it is the first emitted token
            else:
                dist += weight * next_probs.double()  # rejected: the first token is drawn from next_probs
    return dist


def test_first_emitted_token_is_distributed_exactly_as_the_target(impl):
    p_d = torch.tensor([0.4, 0.1, 0.2, 0.25, 0.05])
    p_t = torch.tensor([0.3, 0.25, 0.2, 0.05, 0.2])  # thresholds 0.75, 1, 1, 0.2, 1: multiples of 1/20
    expect_close(first_token_distribution(impl, p_d, p_t, 20), p_t.double(),
                 say(en="distribution of the first emitted token (summed over draft tokens, integrated over the uniform) "
                        "for p_d = [0.4, 0.1, 0.2, 0.25, 0.05], p_t = [0.3, 0.25, 0.2, 0.05, 0.2]",
                     zh="第一个输出 token 的分布（对草稿 token 求和、对均匀分布积分），"
                        "p_d = [0.4, 0.1, 0.2, 0.25, 0.05]，p_t = [0.3, 0.25, 0.2, 0.05, 0.2]"), atol=1e-6, rtol=0.0,
                 hint=say(en="Speculative sampling is exact: accepted mass min(p_d, p_t) plus rejection mass (here 0.3) "
                             "times the residual max(0, p_t − p_d)/0.3 gives back p_t. Resampling from p_t after a "
                             "rejection, or an inverted ratio, shifts mass towards the tokens the draft over-proposes.",
                          zh="投机采样是精确的：接受的概率质量 min(p_d, p_t) 加上拒绝的质量（这里是 0.3）乘以残差 "
                             "max(0, p_t − p_d)/0.3，恰好还原 p_t。拒绝后从 p_t 重新采样，或者比值倒过来，"
                             "都会把概率质量偏向草稿模型过度提议的 token。"))
    g = torch.Generator().manual_seed(2)
    for V in (2, 3, 6):
        p_d, p_t = exact_pair(g, V, 16)
        expect_close(first_token_distribution(impl, p_d, p_t, 16), p_t.double(),
                     say(en=f"distribution of the first emitted token for random p_d, p_t with V={V}",
                         zh=f"随机 p_d、p_t（V={V}）下第一个输出 token 的分布"), atol=1e-5, rtol=0.0,
                     hint=say(en="The output must be distributed exactly as the target: accept with min(1, p_t/p_d), "
                                 "and on rejection sample from normalize(max(0, p_t − p_d)).",
                              zh="输出必须严格服从目标分布：以 min(1, p_t/p_d) 接受，拒绝时从 "
                                 "normalize(max(0, p_t − p_d)) 中采样。"))


def test_deterministic(impl):
    draft, target, tokens = hand_case()
    uniforms = torch.tensor([0.3, 0.7, 0.1])
    expect_deterministic(impl.speculative_step, draft, target, tokens, uniforms,
                         what="speculative_step(hand case, uniforms [0.3, 0.7, 0.1])")


@given(st.integers(1, 5), st.integers(2, 6), st.integers(0, 2**16))
def test_property_random_shapes(impl, k, V, seed):
    g = torch.Generator().manual_seed(seed)
    draft, target, tokens, uniforms = random_case(g, k, V, closeness=0.5)
    check(impl, draft, target, tokens, uniforms, say(en=f"speculative_step with k={k}, V={V}",
                                                     zh=f"k={k}、V={V} 时的 speculative_step"))
