"""gae: A_t = Σ_l (γλ)^l δ_{t+l}, δ_t = r_t + γV_{t+1} − V_t, returns = A + V[..., :T], against a float64 double sum."""
import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor, say

HINT = say(en="δ_t = r_t + γ·values[..., t + 1] − values[..., t] (values has T + 1 entries, the last the bootstrap); "
              "then backwards from t = T − 1: A_t = δ_t + γλ·A_{t+1} with A_T = 0; returns = A + values[..., :T].",
           zh="δ_t = r_t + γ·values[..., t + 1] − values[..., t]（values 有 T + 1 个元素，最后一个是自举值）；然后从 "
              "t = T − 1 倒推：A_t = δ_t + γλ·A_{t+1}，A_T = 0；returns = A + values[..., :T]。")
RETURNS_CAUSE = say(en="the returns equal the advantages; add the values back: returns = A + values[..., :T].",
                    zh="returns 等于优势本身；要把价值加回去：returns = A + values[..., :T]。")


def oracle(rewards, values, gamma=0.99, lam=0.95):
    """The definition as a direct double sum, in float64, one trajectory at a time."""
    T = rewards.size(-1)
    r = rewards.double().reshape(-1, T)
    v = values.double().reshape(-1, T + 1)
    adv = torch.zeros_like(r)
    for b in range(r.size(0)):
        delta = [r[b, k] + gamma * v[b, k + 1] - v[b, k] for k in range(T)]
        for t in range(T):
            adv[b, t] = sum((gamma * lam) ** l * delta[t + l] for l in range(T - t))
    adv = adv.reshape(rewards.shape)
    return adv, adv + values.double()[..., :T]


def variant(rewards, values, gamma, lam, forward=False, no_bootstrap=False, decay=None, shifted=False):
    """Advantages with one of the usual mistakes, float32."""
    r, v = rewards.double(), values.double().clone()
    T = r.size(-1)
    if no_bootstrap:
        v[..., T] = 0
    delta = r + gamma * v[..., :T] - v[..., 1:] if shifted else r + gamma * v[..., 1:] - v[..., :T]
    k = gamma * lam if decay is None else decay
    adv, acc = torch.zeros_like(r), torch.zeros_like(r[..., 0])
    for t in (range(T) if forward else reversed(range(T))):
        acc = delta[..., t] + k * acc
        adv[..., t] = acc
    return adv.float()


def likely_gae_mistakes(rewards, values, gamma=0.99, lam=0.95):
    """What the usual GAE mistakes give for the advantages, each with its cause."""
    return ((variant(rewards, values, gamma, lam, forward=True),
             say(en="the recursion runs forward in time (A_t = δ_t + γλ·A_{t−1}), summing PAST TD errors; run it "
                    "backwards from t = T − 1.",
                 zh="递推按时间正向进行（A_t = δ_t + γλ·A_{t−1}），累加的是过去的 TD 误差；应从 t = T − 1 倒推。")),
            (variant(rewards, values, gamma, lam, no_bootstrap=True),
             say(en="0 used instead of the bootstrap value values[..., T] in the last TD error; a truncated episode "
                    "bootstraps with V_T.",
                 zh="最后一个 TD 误差里用 0 代替了自举值 values[..., T]；被截断的回合要用 V_T 自举。")),
            (variant(rewards, values, gamma, lam, decay=lam),
             say(en="the trace decays by λ instead of γλ; both factors multiply A_{t+1}.",
                 zh="迹按 λ 衰减，而不是按 γλ；A_{t+1} 前面要乘以两者之积。")),
            (variant(rewards, values, gamma, lam, shifted=True),
             say(en="the values are off by one (δ_t = r_t + γV_t − V_{t+1}); V_t is values[..., t] and V_{t+1} is "
                    "values[..., t + 1].",
                 zh="价值错位了一位（δ_t = r_t + γV_t − V_{t+1}）；V_t 是 values[..., t]，V_{t+1} 是 values[..., t + 1]。")))


def trajectories(shape, T, seed):
    g = torch.Generator().manual_seed(seed)
    rewards = torch.randn(*shape, T, generator=g)
    values = torch.randn(*shape, T + 1, generator=g)
    return rewards, values


def call(impl, rewards, values, what, **kw):
    out = impl.gae(rewards, values, **kw)
    expect(isinstance(out, tuple) and len(out) == 2, say(en=f"{what} must return a tuple (advantages, returns)",
                                                         zh=f"{what} 必须返回元组 (advantages, returns)"))
    adv, ret = out
    expect_tensor(adv, f"{what}: advantages", shape=tuple(rewards.shape), dtype=rewards.dtype)
    expect_tensor(ret, f"{what}: returns", shape=tuple(rewards.shape), dtype=rewards.dtype)
    return adv, ret


def test_matches_the_double_sum(impl):
    rewards, values = trajectories((3,), 6, seed=0)
    adv, ret = call(impl, rewards, values, "gae(rewards (3, 6), values (3, 7))")
    want_adv, want_ret = oracle(rewards, values)
    expect_close(adv, want_adv.float(), "gae(rewards (3, 6), values (3, 7)): advantages", atol=1e-5, rtol=1e-5,
                 hint=HINT, likely=likely_gae_mistakes(rewards, values))
    expect_close(ret, want_ret.float(), "gae(rewards (3, 6), values (3, 7)): returns", atol=1e-5, rtol=1e-5,
                 hint=say(en="returns = advantages + values[..., :T] (the critic's target), not the advantages alone "
                             "and not a discounted sum of rewards.",
                          zh="returns = advantages + values[..., :T]（评论家的目标），不是优势本身，也不是奖励的折扣和。"),
                 likely=((want_adv.float(), RETURNS_CAUSE),))


def test_non_default_gamma_and_lambda(impl):
    rewards, values = trajectories((2,), 7, seed=1)
    for gamma, lam in ((0.9, 0.5), (0.7, 0.8)):
        adv, _ = call(impl, rewards, values, f"gae(..., gamma={gamma}, lam={lam})", gamma=gamma, lam=lam)
        expect_close(adv, oracle(rewards, values, gamma, lam)[0].float(),
                     f"gae(rewards (2, 7), values (2, 8), gamma={gamma}, lam={lam}): advantages", atol=1e-5,
                     rtol=1e-5, hint=say(en="The trace decays by γ·λ per step (both factors), and δ uses γ alone. "
                                            + HINT.en,
                                         zh="迹每一步按 γ·λ 衰减（两个因子都要），δ 只用 γ。" + HINT.zh),
                     likely=likely_gae_mistakes(rewards, values, gamma, lam))


def test_lambda_one_gives_discounted_return_minus_value(impl):
    # λ = 1: A_t = Σ_l γ^l r_{t+l} + γ^{T−t} V_T − V_t (Monte Carlo return, bootstrapped at the end).
    rewards, values = trajectories((2,), 5, seed=2)
    gamma, T = 0.8, 5
    adv, ret = call(impl, rewards, values, "gae(..., gamma=0.8, lam=1.0)", gamma=gamma, lam=1.0)
    r, v = rewards.double(), values.double()
    mc = torch.stack([sum(gamma ** l * r[:, t + l] for l in range(T - t)) + gamma ** (T - t) * v[:, T]
                      for t in range(T)], dim=-1)
    expect_close(adv, (mc - v[:, :T]).float(), "gae(lam=1): advantages", atol=1e-5, rtol=1e-5,
                 hint=say(en="With λ = 1 the TD errors telescope into the discounted return Σ γ^l r_{t+l} + "
                             "γ^{T−t}·V_T minus V_t. " + HINT.en,
                          zh="λ = 1 时 TD 误差逐项相消，得到折扣回报 Σ γ^l r_{t+l} + γ^{T−t}·V_T 减去 V_t。" + HINT.zh),
                 likely=likely_gae_mistakes(rewards, values, gamma, 1.0))
    expect_close(ret, mc.float(), "gae(lam=1): returns", atol=1e-5, rtol=1e-5,
                 hint=say(en="With λ = 1 the returns are the discounted returns themselves (bootstrapped with V_T).",
                          zh="λ = 1 时 returns 就是折扣回报本身（用 V_T 自举）。"),
                 likely=(((mc - v[:, :T]).float(), RETURNS_CAUSE),))


def test_lambda_zero_gives_one_step_td_errors(impl):
    rewards, values = trajectories((3,), 4, seed=3)
    adv, _ = call(impl, rewards, values, "gae(..., gamma=0.9, lam=0.0)", gamma=0.9, lam=0.0)
    delta = rewards.double() + 0.9 * values.double()[:, 1:] - values.double()[:, :-1]
    expect_close(adv, delta.float(), "gae(lam=0): advantages", atol=1e-5, rtol=1e-5,
                 hint=say(en="With λ = 0 each advantage is its own TD error δ_t = r_t + γV_{t+1} − V_t: check which "
                             "value is V_t (values[..., t]) and which is V_{t+1} (values[..., t + 1]).",
                          zh="λ = 0 时每个优势就是它自己的 TD 误差 δ_t = r_t + γV_{t+1} − V_t：检查哪个是 V_t"
                             "（values[..., t]），哪个是 V_{t+1}（values[..., t + 1]）。"),
                 likely=likely_gae_mistakes(rewards, values, 0.9, 0.0))


def test_the_bootstrap_value_is_used(impl):
    # Raising V_T by c raises A_t by c·γ·(γλ)^{T−1−t}: the last state's value reaches every step.
    rewards, values = trajectories((1,), 5, seed=4)
    gamma, lam, c = 0.9, 0.8, 2.0
    bumped = values.clone()
    bumped[:, -1] += c
    a0, _ = call(impl, rewards, values, "gae(rewards, values)", gamma=gamma, lam=lam)
    a1, _ = call(impl, rewards, bumped, "gae(rewards, values[..., T] + 2)", gamma=gamma, lam=lam)
    want = torch.tensor([[c * gamma * (gamma * lam) ** (4 - t) for t in range(5)]])
    expect_close(a1 - a0, want, say(en="the change of the advantages when the bootstrap value V_T grows by 2",
                                    zh="自举值 V_T 增加 2 时优势的变化量"), atol=1e-5,
                 rtol=1e-4, hint=say(en="The last TD error is δ_{T−1} = r_{T−1} + γ·V_T − V_{T−1} with V_T = "
                                        "values[..., T], the bootstrap value of a truncated episode — do not replace it "
                                        "by 0.",
                                     zh="最后一个 TD 误差是 δ_{T−1} = r_{T−1} + γ·V_T − V_{T−1}，其中 V_T = values[..., T] "
                                        "是被截断回合的自举值——不要把它换成 0。"),
                 likely=((torch.zeros_like(want), say(en="the advantages ignore V_T: the bootstrap value values[..., T] "
                                                         "was replaced by 0 in the last TD error.",
                                                      zh="优势与 V_T 无关：最后一个 TD 误差里的自举值 values[..., T] "
                                                         "被换成了 0。")),))


def test_terminal_episode_with_zero_bootstrap(impl):
    rewards = torch.tensor([0.0, 0.0, 0.0, 1.0])  # a single reward at the end, as in RLHF
    values = torch.tensor([0.2, 0.3, 0.5, 0.7, 0.0])
    adv, ret = call(impl, rewards, values, "gae(rewards (4,), values (5,))", gamma=1.0, lam=0.95)
    want_adv, want_ret = oracle(rewards, values, 1.0, 0.95)
    expect_close(adv, want_adv.float(), "gae(rewards (4,), values (5,), gamma=1.0, lam=0.95): advantages", atol=1e-6,
                 rtol=1e-5, hint=say(en="A 1-D input is a single trajectory over its only dim. " + HINT.en,
                                     zh="一维输入就是沿它唯一的维度的一条轨迹。" + HINT.zh),
                 likely=likely_gae_mistakes(rewards, values, 1.0, 0.95))
    expect_close(ret, want_ret.float(), "gae(rewards (4,), values (5,)): returns", atol=1e-6, rtol=1e-5, hint=HINT,
                 likely=((want_adv.float(), RETURNS_CAUSE),))


def test_batch_dims_and_determinism(impl):
    rewards, values = trajectories((2, 3), 5, seed=5)
    adv, ret = expect_deterministic(impl.gae, rewards, values, what="gae")
    call(impl, rewards, values, "gae(rewards (2, 3, 5), values (2, 3, 6))")
    want_adv, want_ret = oracle(rewards, values)
    expect_close(adv, want_adv.float(), "gae(rewards (2, 3, 5), values (2, 3, 6)): advantages", atol=1e-5, rtol=1e-5,
                 hint=say(en="Every leading dim is a batch dim; time is the LAST dim. " + HINT.en,
                          zh="前面的每一维都是 batch 维；时间是最后一维。" + HINT.zh),
                 likely=likely_gae_mistakes(rewards, values))
    expect_close(ret, want_ret.float(), "gae(rewards (2, 3, 5), values (2, 3, 6)): returns", atol=1e-5, rtol=1e-5,
                 hint=HINT, likely=((want_adv.float(), RETURNS_CAUSE),))


@given(st.lists(st.integers(1, 3), min_size=0, max_size=2), st.integers(1, 5), st.floats(0.5, 1.0),
       st.floats(0.0, 1.0), st.integers(0, 2**16))
def test_property_any_shape(impl, batch, T, gamma, lam, seed):
    rewards, values = trajectories(tuple(batch), T, seed)
    adv, ret = call(impl, rewards, values, f"gae(rewards {tuple(rewards.shape)})", gamma=gamma, lam=lam)
    want_adv, want_ret = oracle(rewards, values, gamma, lam)
    expect_close(adv, want_adv.float(), f"gae(rewards {tuple(rewards.shape)}, gamma={gamma}, lam={lam}): advantages",
                 atol=1e-5, rtol=1e-4, hint=HINT, likely=likely_gae_mistakes(rewards, values, gamma, lam))
    expect_close(ret, want_ret.float(), f"gae(rewards {tuple(rewards.shape)}): returns", atol=1e-5, rtol=1e-4,
                 hint=HINT, likely=((want_adv.float(), RETURNS_CAUSE),))
