"""grpo: group-standardized advantages and the DeepSeekMath loss (clipped surrogate − β·k3 KL, sequence then batch mean)."""
import math
import statistics

import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_scalar, expect_tensor, say

ADV_HINT = say(en="rewards.view(N, G): row n is prompt n's G consecutive completions; A = (r − row mean) / (row std + "
                  "eps) with the UNBIASED std (torch.std's default), eps added to the std, not under a square root.",
               zh="rewards.view(N, G)：第 n 行是第 n 个提示的 G 个相邻补全；A = (r − 行均值) / (行标准差 + eps)，"
                  "标准差用无偏估计（torch.std 的默认值），eps 加在标准差上，而不是放进平方根里。")
LOSS_HINT = say(en="Per token: min(r·A, clip(r, 1 − ε, 1 + ε)·A) − β·KL with r = exp(logp − logp_old), A the "
                   "sequence's advantage and KL = exp(logp_ref − logp) − (logp_ref − logp) − 1; mean over each "
                   "sequence's masked tokens, then mean over sequences; the loss is minus that.",
                zh="逐词元：min(r·A, clip(r, 1 − ε, 1 + ε)·A) − β·KL，其中 r = exp(logp − logp_old)，A 是该序列的优势，"
                   "KL = exp(logp_ref − logp) − (logp_ref − logp) − 1；先在每个序列的有效（mask 内）词元上取均值，"
                   "再在序列之间取均值；损失是它的相反数。")
ADV_MISTAKES = {
    "batch": say(en="standardizing over the whole batch; take mean and std within each prompt's group "
                    "(rewards.view(-1, group_size), along dim 1).",
                 zh="在整个 batch 上做了标准化；均值和标准差应在每个提示的组内计算（rewards.view(-1, group_size)，沿 dim 1）。"),
    "biased": say(en="the biased std (divide by G, unbiased=False); use torch.std's unbiased default (divide by G − 1).",
                  zh="用了有偏标准差（除以 G，unbiased=False）；应使用 torch.std 默认的无偏估计（除以 G − 1）。"),
    "sqrt": say(en="dividing by √(var + eps); the denominator is std + eps.",
                zh="除以了 √(var + eps)；分母应是 std + eps。"),
    "strided": say(en="groups of strided completions (rewards.view(group_size, -1)); a group is a CONSECUTIVE block: "
                      "rewards.view(-1, group_size).",
                   zh="把间隔排列的补全分成了一组（rewards.view(group_size, -1)）；一组是相邻的一段："
                      "rewards.view(-1, group_size)。"),
}
LOSS_MISTAKES = {
    "k1": say(en="the plain log-ratio logp − logp_ref (k1) as the KL; use k3 = exp(logp_ref − logp) − (logp_ref − logp) "
                 "− 1, which is never negative.",
              zh="用了普通的对数比 logp − logp_ref（k1）作为 KL；应使用 k3 = exp(logp_ref − logp) − (logp_ref − logp) − 1，"
                 "它永远不为负。"),
    "kl_sign": say(en="β·KL added to the objective; it is SUBTRACTED from the objective, so the loss gets +β·KL.",
                   zh="把 β·KL 加到了目标上；它应从目标中减去，所以损失里是 +β·KL。"),
    "token_mean": say(en="one mean over all tokens of the batch; average each sequence over its own masked tokens first, "
                         "then average the sequences.",
                      zh="对整个 batch 的所有词元一次取均值；应先在每个序列自己的有效词元上取均值，再对序列取均值。"),
}


def adv_oracle(rewards, G, eps=1e-4):
    """statistics.stdev is the sample (unbiased, n − 1) standard deviation; exact Python floats."""
    r = rewards.tolist()
    out = []
    for n in range(len(r) // G):
        group = r[n * G:(n + 1) * G]
        mu, sd = statistics.fmean(group), statistics.stdev(group)
        out += [(x - mu) / (sd + eps) for x in group]
    return torch.tensor(out, dtype=torch.float64)


def adv_mistake(rewards, G, kind, eps=1e-4):
    """What one of ADV_MISTAKES gives (float32)."""
    r = rewards.double()
    if kind == "batch":
        return ((r - r.mean()) / (r.std() + eps)).float()
    if kind == "strided":
        groups = r.view(G, -1)
        return ((groups - groups.mean(0)) / (groups.std(0) + eps)).reshape(-1).float()
    groups = r.view(-1, G)
    centered = groups - groups.mean(1, keepdim=True)
    if kind == "biased":
        return (centered / (groups.std(1, unbiased=False, keepdim=True) + eps)).reshape(-1).float()
    return (centered / (groups.var(1, keepdim=True) + eps).sqrt()).reshape(-1).float()  # "sqrt"


def likely_adv(rewards, G, eps=1e-4):
    out = []
    for kind, cause in ADV_MISTAKES.items():
        if kind == "strided" and rewards.numel() % G:
            continue
        out.append((adv_mistake(rewards, G, kind, eps), cause))
    return tuple(out)


def likely_loss(logp, logp_old, logp_ref, adv, mask, eps=0.2, beta=0.04):
    return tuple((loss_oracle(logp, logp_old, logp_ref, adv, mask, eps, beta, mistake=kind).float(), cause)
                 for kind, cause in LOSS_MISTAKES.items())


def loss_oracle(logp, logp_old, logp_ref, adv, mask, eps=0.2, beta=0.04, mistake=None):
    """A loop over sequences and tokens in float64 (or what one of LOSS_MISTAKES gives)."""
    total, all_terms = 0.0, []
    for i in range(logp.size(0)):
        terms = []
        for t in range(logp.size(1)):
            if not bool(mask[i, t]):
                continue
            r = math.exp(float(logp[i, t]) - float(logp_old[i, t]))
            a = float(adv[i])
            surrogate = min(r * a, min(max(r, 1 - eps), 1 + eps) * a)
            x = float(logp_ref[i, t]) - float(logp[i, t])
            kl = -x if mistake == "k1" else math.exp(x) - x - 1
            terms.append(surrogate + (beta if mistake == "kl_sign" else -beta) * kl)
        total += sum(terms) / len(terms)
        all_terms += terms
    if mistake == "token_mean":
        return torch.tensor(-sum(all_terms) / len(all_terms), dtype=torch.float64)
    return torch.tensor(-total / logp.size(0), dtype=torch.float64)


def rollout(NG, T, seed, spread=0.4):
    g = torch.Generator().manual_seed(seed)
    logp_old = -3 * torch.rand(NG, T, generator=g) - 0.05
    logp = logp_old + spread * torch.randn(NG, T, generator=g)
    logp_ref = logp_old + spread * torch.randn(NG, T, generator=g)
    adv = torch.randn(NG, generator=g)
    lengths = torch.randint(1, T + 1, (NG,), generator=g)
    lengths[0] = T
    mask = torch.arange(T)[None, :] < lengths[:, None]
    return logp, logp_old, logp_ref, adv, mask


def check_adv(impl, rewards, G, what, eps=None, hint=ADV_HINT):
    got = impl.grpo_advantages(rewards, G) if eps is None else impl.grpo_advantages(rewards, G, eps)
    expect_tensor(got, what, shape=tuple(rewards.shape), dtype=rewards.dtype)
    want = adv_oracle(rewards, G) if eps is None else adv_oracle(rewards, G, eps)
    expect_close(got, want.float(), what, atol=1e-4, rtol=1e-4, hint=hint,
                 likely=likely_adv(rewards, G) if eps is None else likely_adv(rewards, G, eps))
    return got


# ---- grpo_advantages ----------------------------------------------------------------------------------------------

def test_advantages_match_the_group_oracle(impl):
    g = torch.Generator().manual_seed(0)
    rewards = torch.randn(12, generator=g)
    check_adv(impl, rewards, 4, "grpo_advantages(rewards (12,), group_size=4)")


def test_advantages_use_the_unbiased_std(impl):
    # Group of 2 with rewards 1 and 0: unbiased std √½ ≈ 0.707, so A = ±0.707; the biased std (0.5) gives ±1.
    rewards = torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 1.0])
    got = check_adv(impl, rewards, 2, "grpo_advantages([1, 0, 0, 0, 1, 1], group_size=2)",
                    hint=say(en="With G = 2 and rewards (1, 0) the unbiased std is √½, so A = ±0.7070 — the biased std "
                                "(unbiased=False, divide by G) gives ±1. Use torch.std's default.",
                             zh="G = 2、奖励为 (1, 0) 时无偏标准差是 √½，所以 A = ±0.7070——有偏标准差（unbiased=False，"
                                "除以 G）会得到 ±1。请用 torch.std 的默认设置。"))
    expect(bool(torch.isfinite(got).all()),
           say(en="groups whose rewards are all equal must give advantage 0, not NaN",
               zh="奖励全部相同的组，优势必须是 0，而不是 NaN"))


def test_equal_rewards_give_zero_advantage_without_nan(impl):
    rewards = torch.tensor([1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.3, 0.9, 0.5])
    got = impl.grpo_advantages(rewards, 3)
    expect_tensor(got, "grpo_advantages(rewards (9,), group_size=3)", shape=(9,), dtype=torch.float32)
    expect(bool(torch.isfinite(got).all()),
           say(en=f"grpo_advantages returned {got.tolist()}: a group whose rewards are all equal has std 0 — add eps "
                  "to the std so that 0/(0 + eps) = 0 instead of 0/0 = NaN.",
               zh=f"grpo_advantages 返回了 {got.tolist()}：奖励全部相同的组标准差为 0——要在标准差上加 eps，"
                  "这样得到 0/(0 + eps) = 0，而不是 0/0 = NaN。"))
    expect(bool((got[:6] == 0).all()),
           say(en=f"all-right and all-wrong groups must get advantage exactly 0 (no learning signal); got "
                  f"{got[:6].tolist()} — mean and std are taken within each group.",
               zh=f"全对和全错的组优势必须恰好为 0（没有学习信号）；实际是 {got[:6].tolist()}——均值和标准差要在组内计算。"))
    check_adv(impl, rewards, 3, "grpo_advantages(rewards (9,), group_size=3)")


def test_normalization_is_per_group_not_over_the_batch(impl):
    # An easy prompt (rewards around 10) and a hard one (around 0): each is standardized on its own.
    rewards = torch.tensor([10.0, 11.0, 9.5, 10.2, 0.0, 0.4, 0.1, 0.0])
    got = check_adv(impl, rewards, 4, "grpo_advantages on an easy and a hard prompt (group_size=4)",
                    hint=say(en="Mean and std are taken within each group (per prompt), not over the whole batch: "
                                "otherwise every completion of the easy prompt looks good. " + ADV_HINT.en,
                             zh="均值和标准差在每个组（每个提示）内计算，而不是在整个 batch 上：否则简单提示的每个补全"
                                "看起来都很好。" + ADV_HINT.zh))
    s1, s2 = float(got[:4].sum()), float(got[4:].sum())
    expect(abs(s1) < 1e-4 and abs(s2) < 1e-4,
           say(en=f"each group's advantages must sum to 0; got sums {s1:.3g} and {s2:.3g}",
               zh=f"每组的优势之和必须为 0；实际是 {s1:.3g} 和 {s2:.3g}"))


def test_groups_are_consecutive_completions(impl):
    # N = 3 prompts × G = 2: completions (0, 1) belong to prompt 0, (2, 3) to prompt 1, (4, 5) to prompt 2.
    rewards = torch.tensor([1.0, 0.0, 5.0, 7.0, -2.0, -1.0])
    check_adv(impl, rewards, 2, "grpo_advantages([1, 0, 5, 7, -2, -1], group_size=2)",
              hint=say(en="Groups are CONSECUTIVE blocks: rewards.view(-1, group_size), not "
                          "rewards.view(group_size, -1) (which would group completions 0, 3 / 1, 4 / 2, 5 of different "
                          "prompts).",
                       zh="组是相邻的一段：rewards.view(-1, group_size)，而不是 rewards.view(group_size, -1)"
                          "（那样会把不同提示的补全 0, 3 / 1, 4 / 2, 5 分到一组）。"))


def test_eps_is_added_to_the_std(impl):
    # Rewards that differ by 1e-3: std ≈ 1e-3, comparable to eps; √(var + eps) would be 10× larger.
    rewards = torch.tensor([0.5, 0.501, 0.502, 0.2, 0.9, 0.4])
    check_adv(impl, rewards, 3, "grpo_advantages on a group with std ~1e-3 (eps=1e-4)",
              hint=say(en="eps goes in as (std + eps); √(var + eps) is a different (and here 10× larger) denominator.",
                       zh="eps 以 (std + eps) 的形式加入；√(var + eps) 是另一个分母（这里大了 10 倍）。"))
    check_adv(impl, rewards, 3, "grpo_advantages(..., eps=0.5)", eps=0.5, hint=ADV_HINT)


@given(st.integers(1, 4), st.integers(2, 5), st.integers(0, 2**16))
def test_property_advantages(impl, N, G, seed):
    g = torch.Generator().manual_seed(seed)
    rewards = torch.randint(0, 3, (N * G,), generator=g).float() + 0.1 * torch.randn(N * G, generator=g)
    check_adv(impl, rewards, G, f"grpo_advantages on {N} groups of {G} (seed {seed})")


# ---- grpo_loss ----------------------------------------------------------------------------------------------------

def test_loss_matches_oracle(impl):
    logp, old, ref, adv, mask = rollout(6, 5, seed=1)
    got = impl.grpo_loss(logp, old, ref, adv, mask)
    expect_scalar(got, loss_oracle(logp, old, ref, adv, mask), "grpo_loss(logp (6, 5), ..., advantages (6,), mask)",
                  atol=1e-5, rtol=1e-5, hint=LOSS_HINT, likely=likely_loss(logp, old, ref, adv, mask))
    for eps, beta in ((0.1, 0.0), (0.3, 0.5)):
        expect_scalar(impl.grpo_loss(logp, old, ref, adv, mask, clip_eps=eps, beta=beta),
                      loss_oracle(logp, old, ref, adv, mask, eps, beta),
                      f"grpo_loss(..., clip_eps={eps}, beta={beta})", atol=1e-5, rtol=1e-5, hint=LOSS_HINT,
                      likely=likely_loss(logp, old, ref, adv, mask, eps, beta))


def test_sequence_mean_then_batch_mean(impl):
    # Sequence 0 has 6 tokens with A = +1, sequence 1 one token with A = −3, at r = 1 and logp = ref:
    # per-sequence means 1 and −3 → loss −(1 − 3)/2 = 1; a token mean over the batch would give −(6 − 3)/7.
    T = 6
    logp = torch.full((2, T), -1.0)
    adv = torch.tensor([1.0, -3.0])
    mask = torch.tensor([[True] * 6, [True] + [False] * 5])
    got = impl.grpo_loss(logp, logp.clone(), logp.clone(), adv, mask)
    expect_scalar(got, 1.0, say(en="grpo_loss on two sequences of 6 and 1 tokens (A = +1 and −3, r = 1, no KL)",
                                zh="两个序列分别有 6 个和 1 个词元时的 grpo_loss（A = +1 和 −3，r = 1，没有 KL）"),
                  atol=1e-6, rtol=1e-5,
                  hint=say(en="First average each sequence over its own masked tokens (1/|o_i| Σ_t), then average the "
                              "sequences: here −(1 + (−3))/2 = 1. A single token mean over the batch gives −3/7.",
                           zh="先在每个序列自己的有效词元上取均值（1/|o_i| Σ_t），再对序列取均值：这里是 "
                              "−(1 + (−3))/2 = 1。对整个 batch 的词元一次取均值会得到 −3/7。"))


def test_kl_term_is_k3_non_negative_and_zero_at_the_reference(impl):
    # A = 0 and r = 1: the loss is β · mean_i mean_t KL_t, with KL_t = e^x − x − 1 ≥ 0, x = logp_ref − logp.
    logp = torch.tensor([[-1.0], [-2.0], [-0.5], [-3.0]])
    ref = logp + torch.tensor([[0.8], [-0.6], [1.5], [-1.2]])  # the reference above and below the policy
    zeros, mask = torch.zeros(4), torch.ones(4, 1, dtype=torch.bool)
    got = impl.grpo_loss(logp, logp.clone(), ref, zeros, mask, beta=0.5)
    x = (ref - logp).double()
    want = 0.5 * (torch.exp(x) - x - 1).mean()
    k1 = float(got) < 0 and abs(float(got) - 0.5 * float((-x).mean())) < 1e-5
    expect(float(got) >= 0,
           say(en=f"with zero advantages the loss is β·KL and must be ≥ 0; got {float(got):.4f}. "
                  + ("Your value is β times the plain log-ratio (k1), which is often negative; use the k3 estimator "
                     "exp(ref − logp) − (ref − logp) − 1." if k1 else
                     "The KL is SUBTRACTED from the objective, so the loss gets +β·KL (k3 is never negative)."),
               zh=f"优势为 0 时损失就是 β·KL，必须 ≥ 0；实际是 {float(got):.4f}。"
                  + ("你的值是 β 乘普通对数比（k1），它经常为负；应使用 k3 估计量 exp(ref − logp) − (ref − logp) − 1。"
                     if k1 else "KL 是从目标中减去的，所以损失里是 +β·KL（k3 永远不为负）。")))
    expect_scalar(got, want, say(en="grpo_loss with zero advantages, r = 1, beta = 0.5 (the KL term alone)",
                                 zh="优势为 0、r = 1、beta = 0.5 时的 grpo_loss（只剩 KL 项）"), atol=1e-6,
                  rtol=1e-5,
                  hint=say(en="KL per token = exp(logp_ref − logp) − (logp_ref − logp) − 1 (k3, with the ratio "
                              "π_ref/π_θ), SUBTRACTED from the objective, so it ADDS β·KL to the loss.",
                           zh="每个词元的 KL = exp(logp_ref − logp) − (logp_ref − logp) − 1（k3，比值是 π_ref/π_θ），"
                              "从目标中减去，所以损失里加上 β·KL。"))
    at_ref = impl.grpo_loss(logp, logp.clone(), logp.clone(), zeros, mask, beta=0.5)
    expect_scalar(at_ref, 0.0, say(en="grpo_loss with zero advantages and logp = logp_ref",
                                   zh="优势为 0 且 logp = logp_ref 时的 grpo_loss"), atol=1e-7, rtol=0,
                  hint=say(en="The KL term must vanish when the policy equals the reference.",
                           zh="策略与参考模型相同时，KL 项必须为 0。"))


def test_kl_gradient_pulls_towards_the_reference(impl):
    logp = torch.tensor([[-1.0, -2.0, -0.7]]).requires_grad_(True)
    ref = torch.tensor([[-0.5, -2.5, -0.7]])
    old = logp.detach().clone()
    impl.grpo_loss(logp, old, ref, torch.zeros(1), torch.ones(1, 3, dtype=torch.bool), beta=0.2).backward()
    # d/dlogp [β (e^{ref−logp} − (ref − logp) − 1)] / 3 = β (1 − e^{ref−logp}) / 3.
    want = 0.2 * (1 - torch.exp(ref - logp.detach())) / 3
    expect(logp.grad is not None, say(en="grpo_loss must be differentiable w.r.t. logp", zh="grpo_loss 必须对 logp 可微"))
    expect_close(logp.grad, want, say(en="d grpo_loss / d logp from the KL term alone", zh="只有 KL 项时的 d grpo_loss / d logp"),
                 atol=1e-6, rtol=1e-4,
                 hint=say(en="Descent must move logp towards logp_ref: negative gradient where ref > logp, positive "
                             "where ref < logp, zero where they agree — +β·k3 in the loss does that. " + LOSS_HINT.en,
                          zh="梯度下降必须把 logp 拉向 logp_ref：ref > logp 处梯度为负，ref < logp 处为正，相等处为 0"
                             "——损失里的 +β·k3 正是这样。" + LOSS_HINT.zh),
                 likely=((-want, LOSS_MISTAKES["kl_sign"]),
                         (torch.full_like(want, 0.2 / 3), LOSS_MISTAKES["k1"])))


def test_clipped_tokens_get_no_surrogate_gradient(impl):
    # A > 0 and r = e^0.5 > 1 + ε on token 0: only the KL (β = 0 here: none) could move it; token 1 is inside.
    old = torch.tensor([[-1.0, -1.0]])
    logp = (old + torch.tensor([[0.5, 0.05]])).requires_grad_(True)
    impl.grpo_loss(logp, old, logp.detach().clone(), torch.tensor([2.0]), torch.ones(1, 2, dtype=torch.bool),
                   beta=0.0).backward()
    g = logp.grad
    g0 = None if g is None else float(g[0, 0])
    expect(g is not None and abs(float(g[0, 0])) < 1e-7,
           say(en=f"token 0 has A > 0 and r ≈ 1.65 > 1 + ε: the clipped surrogate must give it no gradient; got {g0}. "
                  "Use min(r·A, clip(r, 1 − ε, 1 + ε)·A).",
               zh=f"词元 0 的 A > 0 且 r ≈ 1.65 > 1 + ε：裁剪后的替代目标不应给它任何梯度；实际是 {g0}。"
                  "应使用 min(r·A, clip(r, 1 − ε, 1 + ε)·A)。"))
    want1 = -2.0 * math.exp(0.05) / 2
    expect(abs(float(g[0, 1]) - want1) < 1e-5,
           say(en=f"token 1 (inside the clip range) must have gradient −r·A/|o| = {want1:.5f}; got {float(g[0, 1]):.5f}: "
                  "inside the range the surrogate is r·A with r = exp(logp − logp_old), averaged over the sequence's "
                  "tokens.",
               zh=f"词元 1（在裁剪范围内）的梯度必须是 −r·A/|o| = {want1:.5f}；实际是 {float(g[0, 1]):.5f}："
                  "范围内替代目标就是 r·A，r = exp(logp − logp_old)，并在序列的词元上取均值。"))


def test_masked_tokens_do_not_count(impl):
    logp, old, ref, adv, mask = rollout(4, 6, seed=2)
    mask[1, 2:] = False
    base = impl.grpo_loss(logp, old, ref, adv, mask)
    logp2, ref2 = logp.clone(), ref.clone()
    logp2[~mask] = old[~mask] + 3.0
    ref2[~mask] = old[~mask] - 4.0
    other = impl.grpo_loss(logp2, old, ref2, adv, mask)
    expect_scalar(other, float(base), say(en="grpo_loss after changing logp and logp_ref on padding tokens",
                                          zh="修改填充词元上的 logp 和 logp_ref 之后的 grpo_loss"), atol=1e-5,
                  rtol=1e-5, hint=say(en="Padding must count neither in a sequence's sum nor in its token count: "
                                         "multiply every per-token term by the mask before summing.",
                                      zh="填充词元既不能计入序列的和，也不能计入词元数：求和之前要把每个词元的项乘以 mask。"))
    b = impl.grpo_loss(logp, old, ref, adv, mask.float())
    expect_scalar(b, float(base), say(en="grpo_loss with a 0/1 float mask versus the same bool mask",
                                      zh="0/1 浮点 mask 与相同的布尔 mask 下 grpo_loss 的比较"), atol=1e-6, rtol=1e-6,
                  hint=say(en="Convert the mask with mask.to(dtype) before multiplying.",
                           zh="相乘之前先用 mask.to(dtype) 转换 mask。"))


def test_end_to_end_and_deterministic(impl):
    g = torch.Generator().manual_seed(3)
    rewards = torch.randint(0, 2, (8,), generator=g).float()
    adv = impl.grpo_advantages(rewards, 4)
    logp, old, ref, _, mask = rollout(8, 5, seed=3)
    got = expect_deterministic(impl.grpo_loss, logp, old, ref, adv, mask, what="grpo_loss")
    expect_scalar(got, loss_oracle(logp, old, ref, adv_oracle(rewards, 4).float(), mask),
                  say(en="grpo_loss with the advantages of grpo_advantages(rewards (8,), 4)",
                      zh="用 grpo_advantages(rewards (8,), 4) 的优势算出的 grpo_loss"), atol=1e-4, rtol=1e-4,
                  hint=say(en="grpo_advantages or grpo_loss is off here (the other checks tell which): "
                              + LOSS_HINT.en, zh="这里 grpo_advantages 或 grpo_loss 有误（其他检查会指出是哪个）："
                              + LOSS_HINT.zh),
                  likely=likely_loss(logp, old, ref, adv_oracle(rewards, 4).float(), mask))


@given(st.integers(2, 6), st.integers(1, 5), st.sampled_from([0.0, 0.04, 0.3]), st.integers(0, 2**16))
def test_property_loss(impl, NG, T, beta, seed):
    logp, old, ref, adv, mask = rollout(NG, T, seed, spread=0.5)
    expect_scalar(impl.grpo_loss(logp, old, ref, adv, mask, beta=beta), loss_oracle(logp, old, ref, adv, mask,
                                                                                   beta=beta),
                  f"grpo_loss on ({NG}, {T}) with beta={beta} (seed {seed})", atol=1e-5, rtol=1e-5, hint=LOSS_HINT,
                  likely=likely_loss(logp, old, ref, adv, mask, beta=beta))
