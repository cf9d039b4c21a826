"""ppo-clipped-objective: −Σ mask·min(r·A, clip(r, 1 − ε, 1 + ε)·A) / Σ mask with r = exp(logp_new − logp_old)."""
import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_scalar, say

HINT = say(en="ratio = exp(logp_new − logp_old); objective = min(ratio·A, clamp(ratio, 1 − ε, 1 + ε)·A) per token; "
              "loss = −(objective·mask).sum() / mask.sum().",
           zh="ratio = exp(logp_new − logp_old)；每个 token 的目标 = min(ratio·A, clamp(ratio, 1 − ε, 1 + ε)·A)；"
              "loss = −(objective·mask).sum() / mask.sum()。")


def likely_ppo_mistakes(logp_new, logp_old, adv, mask, eps=0.2):
    """What the usual mistakes give on these inputs, each with its cause (expect_scalar(likely=...))."""
    r = torch.exp(logp_new.detach().double() - logp_old.double())
    a, m = adv.double(), mask.double()
    clipped = torch.clamp(r, 1 - eps, 1 + eps) * a
    obj = torch.minimum(r * a, clipped)
    return ((-(clipped * m).sum() / m.sum(),
             say(en="the clipped term alone, without the min with r·A; take min(r·A, clip(r, 1 − ε, 1 + ε)·A).",
                 zh="只用了裁剪项，没有和 r·A 取 min；应取 min(r·A, clip(r, 1 − ε, 1 + ε)·A)。")),
            (-(torch.maximum(r * a, clipped) * m).sum() / m.sum(),
             say(en="the max of the clipped and unclipped terms; PPO takes the MIN (a pessimistic bound).",
                 zh="对裁剪项和未裁剪项取了 max；PPO 取的是 min（悲观下界）。")),
            (-obj.mean(),
             say(en="a mean over all B·T positions, padding included; multiply by the mask and divide by mask.sum().",
                 zh="在全部 B·T 个位置上求了平均（包括填充）；应乘以掩码再除以 mask.sum()。")),
            (-((obj * m).sum(-1) / m.sum(-1)).mean(),
             say(en="a mean of per-sequence means; take ONE mean over all real tokens of the batch.",
                 zh="先对每条序列求平均再对序列求平均；应对整个 batch 的全部真实 token 只求一次平均。")),
            ((obj * m).sum() / m.sum(),
             say(en="the objective itself instead of the loss; return its negative (we minimize).",
                 zh="返回的是目标本身而不是损失；要返回它的相反数（我们做的是最小化）。")))


def oracle(logp_new, logp_old, adv, mask, eps=0.2):
    """The same objective written case by case in float64: A ≥ 0 caps r at 1 + ε, A < 0 floors it at 1 − ε."""
    r = torch.exp(logp_new.double() - logp_old.double())
    a = adv.double()
    obj = torch.where(a >= 0, torch.clamp(r, max=1 + eps) * a, torch.clamp(r, min=1 - eps) * a)
    m = mask.double()
    return -(obj * m).sum() / m.sum()


def rollout(B, T, seed, spread=0.4):
    """Log-probs of sampled tokens under the old policy, a moved policy, advantages of both signs, a ragged mask."""
    g = torch.Generator().manual_seed(seed)
    logp_old = -3 * torch.rand(B, T, generator=g) - 0.05
    logp_new = logp_old + spread * torch.randn(B, T, generator=g)  # ratios ~0.4 … 2.5: every clip region
    adv = torch.randn(B, T, generator=g)
    lengths = torch.randint(1, T + 1, (B,), generator=g)
    lengths[0] = T
    mask = torch.arange(T)[None, :] < lengths[:, None]
    return logp_new, logp_old, adv, mask


def test_matches_oracle(impl):
    new, old, adv, mask = rollout(4, 7, seed=0)
    got = impl.ppo_policy_loss(new, old, adv, mask)
    expect_scalar(got, oracle(new, old, adv, mask), say(en="ppo_policy_loss(logp_new, logp_old, advantages, mask) on (4, 7)",
                      zh="形状 (4, 7) 上的 ppo_policy_loss(logp_new, logp_old, advantages, mask)"),
                  atol=1e-5, rtol=1e-5, hint=HINT, likely=likely_ppo_mistakes(new, old, adv, mask))


def test_clip_eps_is_used(impl):
    new, old, adv, mask = rollout(3, 6, seed=1)
    for eps in (0.1, 0.3):
        expect_scalar(impl.ppo_policy_loss(new, old, adv, mask, clip_eps=eps), oracle(new, old, adv, mask, eps),
                      f"ppo_policy_loss(..., clip_eps={eps})", atol=1e-5, rtol=1e-5,
                      hint=say(en="The clip range is [1 − clip_eps, 1 + clip_eps] around 1, applied to the RATIO (not "
                                  "to the log-ratio or the advantage). ",
                               zh="裁剪区间是以 1 为中心的 [1 − clip_eps, 1 + clip_eps]，作用在比率上（不是对数比率，"
                                  "也不是优势）。") + HINT,
                      likely=likely_ppo_mistakes(new, old, adv, mask, eps))


def test_at_the_old_policy_the_loss_is_minus_the_mean_advantage(impl):
    # r = 1 everywhere: no clipping is active, the loss is −mean(A) over real tokens and dL/dlogp = −A/n.
    _, old, adv, mask = rollout(3, 5, seed=2)
    new = old.clone().requires_grad_(True)
    loss = impl.ppo_policy_loss(new, old, adv, mask)
    want = -(adv.double() * mask).sum() / mask.sum()
    expect_scalar(loss, want, say(en="ppo_policy_loss with logp_new = logp_old", zh="logp_new = logp_old 时的 ppo_policy_loss"),
                  atol=1e-6, rtol=1e-5,
                  hint=say(en="At r = 1 the objective is A itself; the LOSS is its negative (we minimize), averaged "
                              "over the masked-in tokens.",
                           zh="r = 1 时目标就是 A 本身；损失是它的相反数（我们做最小化），并在掩码保留的 token 上求平均。"),
                  likely=likely_ppo_mistakes(new, old, adv, mask))
    loss.backward()
    n = int(mask.sum())
    expect_close(new.grad, (-adv * mask / n).float(), say(en="d ppo_policy_loss / d logp_new at r = 1",
                                                          zh="r = 1 时的 d ppo_policy_loss / d logp_new"),
                 atol=1e-6, rtol=1e-4,
                 hint=say(en="Gradient descent must RAISE the log-prob of tokens with A > 0: the gradient is −A/n "
                             "there. Did you return the objective instead of its negative?",
                          zh="梯度下降必须提高 A > 0 的 token 的对数概率：那里的梯度是 −A/n。是不是返回了目标本身而不是它的相反数？"),
                 likely=(((adv * mask / n).float(),
                          say(en="the objective itself instead of the loss; return its negative (we minimize).",
                              zh="返回的是目标本身而不是损失；要返回它的相反数（我们做的是最小化）。")),))


def test_gradient_is_zero_where_the_clip_is_active(impl):
    # Token 0: A > 0, r = e^0.5 ≈ 1.65 > 1 + ε → clipped, no gradient.   Token 1: A < 0, r = e^-0.5 ≈ 0.61 < 1 − ε → none.
    # Token 2: A < 0, r ≈ 1.65 > 1 + ε → the MIN keeps r·A: gradient −r·A/n ≠ 0.
    # Token 3: A > 0, r ≈ 0.61 < 1 − ε → the min keeps r·A: gradient −r·A/n ≠ 0.   Token 4: inside the range.
    old = torch.full((1, 5), -1.0)
    new = (old + torch.tensor([[0.5, -0.5, 0.5, -0.5, 0.05]])).requires_grad_(True)
    adv = torch.tensor([[1.5, -2.0, -1.0, 0.7, 0.9]])
    mask = torch.ones(1, 5, dtype=torch.bool)
    loss = impl.ppo_policy_loss(new, old, adv, mask)
    expect_scalar(loss, oracle(new.detach(), old, adv, mask),
                  say(en="ppo_policy_loss on five hand-made tokens", zh="五个手工构造 token 上的 ppo_policy_loss"), atol=1e-6,
                  rtol=1e-5, hint=HINT, likely=likely_ppo_mistakes(new, old, adv, mask))
    loss.backward()
    r = torch.exp(new.detach() - old)
    want = -(r * adv) / 5
    want[0, 0] = 0.0
    want[0, 1] = 0.0
    g = new.grad
    expect(g is not None, say(en="ppo_policy_loss must be differentiable w.r.t. logp_new",
                              zh="ppo_policy_loss 必须对 logp_new 可微"))
    expect(abs(float(g[0, 0])) < 1e-7 and abs(float(g[0, 1])) < 1e-7,
           say(en=f"the gradient at tokens where the clip is active (A > 0 with r > 1 + ε, A < 0 with r < 1 − ε) must "
                  f"be 0; got {g[0, :2].tolist()}. The clipped term is constant there and the min selects it — taking "
                  "the max instead of the min picks r·A there.",
               zh=f"裁剪生效的 token（A > 0 且 r > 1 + ε，A < 0 且 r < 1 − ε）上梯度必须为 0；实际是 {g[0, :2].tolist()}。"
                  "那里裁剪项是常数，min 会选中它——用 max 代替 min 会在那里选中 r·A。"))
    expect(abs(float(g[0, 2])) > 1e-3,
           say(en=f"token 2 has A < 0 and r ≈ 1.65 > 1 + ε: the gradient must NOT vanish (got {float(g[0, 2]):.3g}) — "
                  "min(r·A, clip(r)·A) picks the unclipped r·A here, so a bad action that became more likely is still "
                  "pushed down. Clipping without the min (or taking the max) loses exactly this.",
               zh=f"token 2 的 A < 0 且 r ≈ 1.65 > 1 + ε：梯度不能为 0（实际是 {float(g[0, 2]):.3g}）——"
                  "min(r·A, clip(r)·A) 在这里选的是未裁剪的 r·A，所以一个变得更可能的坏动作仍会被压低。"
                  "只裁剪不取 min（或取 max）恰好丢掉了这一点。"))
    expect_close(g, want, say(en="d ppo_policy_loss / d logp_new on the five hand-made tokens",
                              zh="五个手工构造 token 上的 d ppo_policy_loss / d logp_new"), atol=1e-6, rtol=1e-4,
                 hint=say(en="Where the unclipped term is selected the gradient is −r·A/n; where the clipped one is, 0.",
                          zh="选中未裁剪项的地方梯度是 −r·A/n；选中裁剪项的地方梯度为 0。"),
                 likely=((-want, say(en="the objective itself instead of the loss; return its negative (we minimize).",
                                     zh="返回的是目标本身而不是损失；要返回它的相反数（我们做的是最小化）。")),))


def test_masked_tokens_do_not_count(impl):
    new, old, adv, mask = rollout(3, 6, seed=3)
    mask[1, 3:] = False
    base = impl.ppo_policy_loss(new, old, adv, mask)
    # Put large (finite) garbage on padding: huge ratios and advantages.
    new2, adv2 = new.clone(), adv.clone()
    new2[~mask] = old[~mask] + 4.0
    adv2[~mask] = 100.0
    new2.requires_grad_(True)
    other = impl.ppo_policy_loss(new2, old, adv2, mask)
    expect_scalar(other, float(base), say(en="ppo_policy_loss after changing logp_new and advantages on padding tokens",
                                          zh="改动填充 token 上的 logp_new 和优势之后的 ppo_policy_loss"),
                  atol=1e-5, rtol=1e-5,
                  hint=say(en="Multiply the per-token objective by the mask and divide by mask.sum(), not by B·T: "
                              "padding must count neither in the sum nor in the count.",
                           zh="把逐 token 的目标乘以掩码再除以 mask.sum()，不要除以 B·T：填充既不能计入求和，也不能计入个数。"))
    expect_scalar(base, oracle(new, old, adv, mask), say(en="ppo_policy_loss with padding", zh="含填充的 ppo_policy_loss"),
                  atol=1e-5, rtol=1e-5, hint=HINT, likely=likely_ppo_mistakes(new, old, adv, mask))
    other.backward()
    expect(bool((new2.grad[~mask] == 0).all()),
           say(en="padding tokens received a non-zero gradient; they must not count: multiply the per-token objective "
                  "by the mask.",
               zh="填充 token 得到了非零梯度；它们不能参与计算：要把逐 token 的目标乘以掩码。"))


def test_token_mean_over_the_batch(impl):
    # One long and one short sequence: the loss is ONE mean over the 7 real tokens, not a mean of per-row means.
    old = torch.full((2, 6), -1.0)
    new = old + 0.1
    adv = torch.tensor([[1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [-3.0, 0.0, 0.0, 0.0, 0.0, 0.0]])
    mask = torch.tensor([[True] * 6, [True] + [False] * 5])
    got = impl.ppo_policy_loss(new, old, adv, mask)
    expect_scalar(got, oracle(new, old, adv, mask),
                  say(en="ppo_policy_loss on rows with 6 and 1 real tokens",
                      zh="两行分别有 6 个和 1 个真实 token 时的 ppo_policy_loss"),
                  atol=1e-6, rtol=1e-5,
                  hint=say(en="Σ over all real tokens of the batch divided by their number (7 here); a mean of "
                              "per-sequence means would weight the single token of row 1 like six.",
                           zh="对整个 batch 的全部真实 token 求和再除以它们的个数（这里是 7）；对每条序列的均值再求平均"
                              "会让第 1 行那唯一的 token 和六个 token 同等权重。"),
                  likely=likely_ppo_mistakes(new, old, adv, mask))


def test_float_mask_and_determinism(impl):
    new, old, adv, mask = rollout(2, 5, seed=4)
    a = expect_deterministic(impl.ppo_policy_loss, new, old, adv, mask, what="ppo_policy_loss")
    b = impl.ppo_policy_loss(new, old, adv, mask.float())
    expect_scalar(b, float(a), say(en="ppo_policy_loss with a 0/1 float mask versus the same bool mask",
                                   zh="0/1 浮点掩码与同样的布尔掩码下的 ppo_policy_loss 对比"), atol=1e-6,
                  rtol=1e-6, hint=say(en="Convert the mask to the objective's dtype before multiplying: "
                                         "m = mask.to(objective.dtype).",
                                      zh="相乘之前先把掩码转成目标的 dtype：m = mask.to(objective.dtype)。"))


@given(st.integers(1, 4), st.integers(1, 5), st.sampled_from([0.1, 0.2, 0.3]), st.integers(0, 2**16))
def test_property_random_rollouts(impl, B, T, eps, seed):
    new, old, adv, mask = rollout(B, T, seed, spread=0.5)
    expect_scalar(impl.ppo_policy_loss(new, old, adv, mask, clip_eps=eps), oracle(new, old, adv, mask, eps),
                  say(en=f"ppo_policy_loss on ({B}, {T}) with clip_eps={eps} (seed {seed})",
                      zh=f"({B}, {T}) 上 clip_eps={eps} 的 ppo_policy_loss（种子 {seed}）"), atol=1e-5, rtol=1e-5, hint=HINT,
                  likely=likely_ppo_mistakes(new, old, adv, mask, eps))
