"""causal-linear-attention: causal_linear_attention(q, k, v, eps) against the quadratic masked form in float64."""
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor, say

HINT = say(en="φ(x) = elu(x) + 1 on q and k only; S_t = Σ_{s≤t} φ(k_s) v_sᵀ and z_t = Σ_{s≤t} φ(k_s) are running sums "
              "that INCLUDE position t (torch.cumsum over the time dim); out_t = φ(q_t)ᵀ S_t / (φ(q_t)ᵀ z_t + eps).",
           zh="φ(x) = elu(x) + 1 只作用于 q 和 k；S_t = Σ_{s≤t} φ(k_s) v_sᵀ 和 z_t = Σ_{s≤t} φ(k_s) 是包含位置 t 的"
              "运行和（沿时间维做 torch.cumsum）；out_t = φ(q_t)ᵀ S_t / (φ(q_t)ᵀ z_t + eps)。")


def oracle(q, k, v, eps=1e-6):
    """The quadratic form: A[t, s] = φ(q_t)·φ(k_s) for s ≤ t (0 above the diagonal), out = A v / (A·1 + eps)."""
    q, k, v = q.double(), k.double(), v.double()
    phi_q, phi_k = F.elu(q) + 1, F.elu(k) + 1
    T = q.size(-2)
    A = (phi_q @ phi_k.transpose(-2, -1)) * torch.ones(T, T, dtype=torch.float64).tril()
    return ((A @ v) / (A.sum(-1, keepdim=True) + eps)).float()


def variant(q, k, v, eps=1e-6, plus_one=True, mask="tril", phi_v=False, normalize=True):
    """The quadratic form with one of the usual mistakes."""
    q, k, v = q.double(), k.double(), v.double()
    phi_q, phi_k = F.elu(q) + plus_one, F.elu(k) + plus_one
    if phi_v:
        v = F.elu(v) + 1
    T = q.size(-2)
    keep = {"tril": torch.ones(T, T).tril(), "strict": torch.ones(T, T).tril(-1), "full": torch.ones(T, T)}[mask]
    A = (phi_q @ phi_k.transpose(-2, -1)) * keep.double()
    return ((A @ v) / (A.sum(-1, keepdim=True) + eps) if normalize else A @ v).float()


def likely_mistakes(q, k, v, eps=1e-6):
    """What the usual mistakes give on (q, k, v), each with its cause."""
    return ((variant(q, k, v, eps, plus_one=False),
             say(en="φ(x) = elu(x) without the + 1; features can be negative and the denominator can vanish. Use "
                    "F.elu(x) + 1.",
                 zh="φ(x) = elu(x) 少了 + 1；特征可能为负，分母可能趋于零。应使用 F.elu(x) + 1。")),
            (variant(q, k, v, eps, mask="strict"),
             say(en="an exclusive prefix sum (s < t): the running sums must INCLUDE position t (torch.cumsum, not a "
                    "shifted one).",
                 zh="用了不含当前位置的前缀和（s < t）：运行和必须包含位置 t（用 torch.cumsum，不要错开一位）。")),
            (variant(q, k, v, eps, mask="full"),
             say(en="sums over the whole sequence (non-causal); out_t may only use s ≤ t — cumsum over time.",
                 zh="对整个序列求和（非因果）；out_t 只能用 s ≤ t 的位置——沿时间维做 cumsum。")),
            (variant(q, k, v, eps, phi_v=True),
             say(en="φ applied to v as well; the feature map belongs on q and k only, v is averaged as it is.",
                 zh="把 φ 也作用在了 v 上；特征映射只用于 q 和 k，v 按原值加权平均。")),
            (variant(q, k, v, eps, normalize=False),
             say(en="no normalizer: divide φ(q_t)ᵀ S_t by φ(q_t)ᵀ z_t + eps.",
                 zh="没有归一化：要把 φ(q_t)ᵀ S_t 除以 φ(q_t)ᵀ z_t + eps。")))


def draw(seed, lead, T, d, dv, spread=1.0):
    g = torch.Generator().manual_seed(seed)
    return (spread * torch.randn(*lead, T, d, generator=g), spread * torch.randn(*lead, T, d, generator=g),
            torch.randn(*lead, T, dv, generator=g))


def call(impl, q, k, v, eps=None):
    out = impl.causal_linear_attention(q, k, v) if eps is None else impl.causal_linear_attention(q, k, v, eps=eps)
    what = (f"causal_linear_attention(q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)}"
            f"{'' if eps is None else f', eps={eps}'})")
    expect_tensor(out, what, shape=(*q.shape[:-1], v.size(-1)), dtype=torch.float32)
    return out, what


def test_equals_the_quadratic_masked_form(impl):
    q, k, v = draw(0, (2, 3), 7, 4, 5)
    out, what = call(impl, q, k, v)
    expect_close(out, oracle(q, k, v), what, atol=1e-5, hint=HINT, likely=likely_mistakes(q, k, v))


def test_first_position_returns_its_value(impl):
    # At t = 0 only s = 0 is visible: out_0 = φ(q_0)·φ(k_0) v_0 / (φ(q_0)·φ(k_0) + eps) ≈ v_0.
    q, k, v = draw(1, (2,), 5, 3, 4)
    out, what = call(impl, q, k, v)
    expect_close(out[..., 0, :], v[..., 0, :], say(en=f"{what}: output at t = 0", zh=f"{what}：t = 0 处的输出"),
                 atol=1e-5,
                 hint=say(en="Position 0 sees only itself, so its output is v_0 (up to eps). If it is not, the running "
                             "sums exclude the current position (an exclusive prefix sum) or are not causal.",
                          zh="位置 0 只能看到自己，所以它的输出是 v_0（相差 eps 以内）。如果不是，说明运行和没有包含"
                             "当前位置（用了不含当前项的前缀和），或者不是因果的。"),
                 likely=tuple((r[..., 0, :], c) for r, c in likely_mistakes(q, k, v)))


def test_causal_future_does_not_change_the_past(impl):
    q, k, v = draw(2, (2,), 8, 4, 3)
    out, what = call(impl, q, k, v)
    q2, k2, v2 = q.clone(), k.clone(), v.clone()
    q2[..., 5:, :] += 3.0
    k2[..., 5:, :] -= 2.0
    v2[..., 5:, :] *= -4.0
    out2, _ = call(impl, q2, k2, v2)
    diff = (out2[..., :5, :] - out[..., :5, :]).abs().max().item()
    expect(diff < 1e-6,
           say(en=f"{what}: changing q, k, v at positions 5..7 changed the outputs at positions 0..4 by up to "
                  f"{diff:.3g}. Causal: out_t may use only positions s ≤ t — use running sums (cumsum over time), not "
                  "sums over the whole sequence.",
               zh=f"{what}：改变位置 5..7 的 q、k、v 使位置 0..4 的输出最多变化了 {diff:.3g}。因果：out_t 只能用 "
                  "s ≤ t 的位置——要用运行和（沿时间维 cumsum），不要对整个序列求和。"))


def test_feature_map_on_q_and_k_not_v(impl):
    # Negative values and values of mixed sign: elu(x) + 1 differs from x, relu(x), exp(x) and from φ(v).
    q, k, v = draw(3, (1,), 6, 3, 3, spread=2.0)
    v = v - 1.5  # mostly negative values: φ(v) would change them
    out, what = call(impl, q, k, v)
    expect_close(out, oracle(q, k, v), say(en=f"{what} with negative values", zh=f"值为负时的 {what}"), atol=1e-5,
                 hint=say(en="Apply φ(x) = F.elu(x) + 1 to q and k, and leave v untouched; φ keeps the features "
                             "positive so that the denominator φ(q)ᵀ z cannot vanish or change sign. " + HINT.en,
                          zh="对 q 和 k 应用 φ(x) = F.elu(x) + 1，v 保持不变；φ 让特征保持为正，分母 φ(q)ᵀ z 才不会"
                             "为零或变号。" + HINT.zh),
                 likely=likely_mistakes(q, k, v))


def test_eps_is_added_to_the_denominator(impl):
    q, k, v = draw(4, (2,), 6, 2, 3, spread=0.5)
    for eps in (0.5, 3.0):
        out, what = call(impl, q, k, v, eps=eps)
        expect_close(out, oracle(q, k, v, eps), what, atol=1e-5,
                     hint=say(en="eps is added to the denominator only: out_t = φ(q_t)ᵀ S_t / (φ(q_t)ᵀ z_t + eps); use "
                                 "the `eps` argument, not a constant.",
                              zh="eps 只加在分母上：out_t = φ(q_t)ᵀ S_t / (φ(q_t)ᵀ z_t + eps)；要用参数 `eps`，不要用"
                                 "常数。"),
                     likely=likely_mistakes(q, k, v, eps))


def test_long_sequence(impl):
    q, k, v = draw(5, (2,), 64, 8, 6)
    out, what = call(impl, q, k, v)
    expect_close(out, oracle(q, k, v), what, atol=1e-4, rtol=1e-4, hint=HINT, likely=likely_mistakes(q, k, v))


def test_deterministic(impl):
    q, k, v = draw(6, (1,), 4, 2, 2)
    expect_deterministic(impl.causal_linear_attention, q, k, v, what="causal_linear_attention")


@given(st.lists(st.integers(1, 3), min_size=0, max_size=2), st.integers(1, 6), st.integers(1, 5),
       st.integers(1, 5), st.integers(0, 2**16))
def test_property_any_shape(impl, lead, T, d, dv, seed):
    q, k, v = draw(seed, tuple(lead), T, d, dv, spread=1.5)
    out, what = call(impl, q, k, v)
    expect_close(out, oracle(q, k, v), what, atol=1e-4, rtol=1e-4, hint=HINT, likely=likely_mistakes(q, k, v))
