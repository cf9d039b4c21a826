"""rotary-embedding: apply_rotary(x, positions, base) rotates each pair (x[2i], x[2i+1]) by p·base^(−2i/d)."""
import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect_close, expect_tensor, say

HINT = say(en="Treat (x[..., 2i], x[..., 2i+1]) as the complex number x[2i] + i·x[2i+1] and multiply it by e^{iθ}, "
              "θ = positions[t] · base^(−2i/d): y[2i] = x[2i]cos θ − x[2i+1]sin θ, y[2i+1] = x[2i]sin θ + x[2i+1]cos θ. "
              "Pairs are ADJACENT features (0,1), (2,3), … — not (i, i + d/2).",
           zh="把 (x[..., 2i], x[..., 2i+1]) 看成复数 x[2i] + i·x[2i+1]，乘以 e^{iθ}，其中 θ = positions[t] · base^(−2i/d)："
              "y[2i] = x[2i]cos θ − x[2i+1]sin θ，y[2i+1] = x[2i]sin θ + x[2i+1]cos θ。"
              "配对的是相邻特征 (0,1)、(2,3)、……——不是 (i, i + d/2)。")


def oracle(x, positions, base=10000.0):
    """Complex multiplication in float64: view pairs as complex numbers, multiply by e^{iθ}."""
    d = x.shape[-1]
    z = torch.view_as_complex(x.double().reshape(*x.shape[:-1], d // 2, 2).contiguous())  # (..., T, d/2)
    theta = positions.double()[:, None] * base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)  # (T, d/2)
    rotated = z * torch.polar(torch.ones_like(theta), theta)
    return torch.view_as_real(rotated).reshape(x.shape).float()


def likely_rotary_mistakes(x, positions, base=10000.0):
    """What the usual mistakes give on x, each with its cause (expect_close(likely=...))."""
    d, T = x.shape[-1], x.shape[-2]
    xd = x.double()

    def rotate(pos, step=2.0, sign=1.0, half=False):
        theta = sign * pos.double()[:, None] * base ** (-step * torch.arange(d // 2, dtype=torch.float64) / d)
        cos, sin = theta.cos(), theta.sin()
        if half:
            x1, x2 = xd[..., : d // 2], xd[..., d // 2:]
            return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)
        xe, xo = xd[..., 0::2], xd[..., 1::2]
        return torch.stack([xe * cos - xo * sin, xe * sin + xo * cos], dim=-1).flatten(-2)

    out = [(rotate(positions, step=1.0),
            say(en="angles p·base^(−i/d) with the pair index i; the exponent is −2i/d.",
                zh="角度用了 p·base^(−i/d)（i 是配对序号）；指数应是 −2i/d。")),
           (rotate(positions, sign=-1.0),
            say(en="each pair turns by −θ (the sine terms have the wrong sign); multiply by e^{+iθ}: "
                   "y[2i] = x[2i]cos θ − x[2i+1]sin θ.",
                zh="每一对都转了 −θ（正弦项符号反了）；应乘以 e^{+iθ}：y[2i] = x[2i]cos θ − x[2i+1]sin θ。")),
           (rotate(positions, half=True),
            say(en="the \"rotate half\" layout pairs x[i] with x[i + d/2]; the contract pairs ADJACENT features "
                   "(x[2i], x[2i+1]).",
                zh="「rotate half」布局把 x[i] 和 x[i + d/2] 配对；本题约定配对的是相邻特征 (x[2i], x[2i+1])。"))]
    if positions.numel() == T and not torch.equal(positions, torch.arange(T)):
        out.append((rotate(torch.arange(T)),
                    say(en="row t is rotated by t itself, ignoring `positions`; use positions[t].",
                        zh="第 t 行按 t 本身旋转，忽略了 `positions`；应使用 positions[t]。")))
    return tuple((v.float(), c) for v, c in out)


def call(impl, x, positions, base=None):
    return impl.apply_rotary(x, positions) if base is None else impl.apply_rotary(x, positions, base)


def test_matches_complex_multiplication(impl):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 5, 8, generator=g)  # (B, H, T, d)
    positions = torch.arange(5)
    got = call(impl, x, positions)
    expect_tensor(got, "apply_rotary(x (2, 3, 5, 8), arange(5))", shape=(2, 3, 5, 8), dtype=torch.float32)
    expect_close(got, oracle(x, positions), "apply_rotary(x, arange(5))", atol=1e-5, hint=HINT,
                 likely=likely_rotary_mistakes(x, positions))


def test_position_zero_is_identity_and_position_one_rotates_pair_zero_by_one_radian(impl):
    x = torch.tensor([[1.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 1.0]])  # (T=2, d=4)
    got = call(impl, x, torch.tensor([0, 1]))
    expect_tensor(got, say(en="apply_rotary on (2, 4)", zh="(2, 4) 上的 apply_rotary"), shape=(2, 4), dtype=torch.float32)
    expect_close(got[0], x[0], say(en="row at position 0 (angle 0: nothing rotates)", zh="位置 0 的行（角度为 0：什么都不转）"),
                 atol=1e-6, hint=say(en="At position 0 every angle is 0: the row must come back unchanged. ",
                                     zh="位置 0 处所有角度都是 0：该行必须原样返回。") + HINT)
    c1, s1 = torch.cos(torch.tensor(1.0)), torch.sin(torch.tensor(1.0))
    c2, s2 = torch.cos(torch.tensor(0.01)), torch.sin(torch.tensor(0.01))  # base^(−2/4) = 0.01
    want = torch.stack([c1, s1, -s2, c2])  # (1, 0) → (cos 1, sin 1);  (0, 1) → (−sin 0.01, cos 0.01)
    likely = tuple((v[1], c) for v, c in likely_rotary_mistakes(x, torch.tensor([0, 1])))
    expect_close(got[1], want, say(en="row at position 1 of x = (1, 0, 0, 1)", zh="x = (1, 0, 0, 1) 在位置 1 的行"),
                 atol=1e-6,
                 hint=say(en="Pair 0 turns by 1 radian, pair 1 by 10000^(−2/4) = 0.01, counter-clockwise (complex "
                             "multiplication by e^{iθ}). ",
                          zh="第 0 对转 1 弧度，第 1 对转 10000^(−2/4) = 0.01 弧度，都是逆时针（乘以复数 e^{iθ}）。") + HINT,
                 likely=likely)


def test_uses_the_given_positions_and_base(impl):
    # Non-contiguous positions (e.g. a KV-cache step, or a shifted window) and a non-default base.
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 4, 6, generator=g)  # (B, T, d)
    positions = torch.tensor([7, 0, 31, 2])
    expect_close(call(impl, x, positions), oracle(x, positions), "apply_rotary(x, positions=[7, 0, 31, 2])",
                 atol=1e-4, hint=say(en="Use positions[t] for row t, not t itself. ",
                                     zh="第 t 行要用 positions[t]，而不是 t 本身。") + HINT,
                 likely=likely_rotary_mistakes(x, positions))
    expect_close(call(impl, x, positions, 500.0), oracle(x, positions, 500.0),
                 "apply_rotary(x, [7, 0, 31, 2], base=500.0)", atol=1e-4,
                 hint=say(en="Use the `base` argument. ", zh="要使用参数 `base`。") + HINT,
                 likely=likely_rotary_mistakes(x, positions, 500.0))


def test_large_head_dim(impl):
    g = torch.Generator().manual_seed(2)
    x = torch.randn(1, 16, 64, generator=g)
    positions = torch.arange(100, 116)
    expect_close(call(impl, x, positions), oracle(x, positions),
                 say(en="apply_rotary with d = 64, positions 100..115", zh="d = 64、位置 100..115 时的 apply_rotary"),
                 atol=1e-4, hint=HINT, likely=likely_rotary_mistakes(x, positions))


def test_preserves_norms(impl):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(3, 6, 10, generator=g)
    got = call(impl, x, torch.arange(6) * 5)
    expect_tensor(got, say(en="apply_rotary on (3, 6, 10)", zh="(3, 6, 10) 上的 apply_rotary"), shape=(3, 6, 10), dtype=torch.float32)
    expect_close(got.norm(dim=-1), x.norm(dim=-1), say(en="the norm of each rotated vector", zh="每个旋转后向量的范数"),
                 atol=1e-5,
                 hint=say(en="A rotation preserves lengths: every output pair must be the input pair turned by an angle "
                             "(use the same θ in the cos and sin terms of a pair).",
                          zh="旋转保持长度：每个输出对都必须是输入对转过一个角度（同一对的 cos 项和 sin 项要用同一个 θ）。"))


@given(st.integers(1, 4), st.integers(0, 40), st.integers(0, 40), st.integers(1, 30), st.integers(0, 2**16))
def test_scores_depend_only_on_relative_position(impl, half_d, m, n, shift, seed):
    # Pairwise, ⟨R(q, m), R(k, n)⟩ = Re(Σ_i q_i conj(k_i) e^{i(m−n)θ_i}) with q_i, k_i the complex pairs:
    # it depends on m − n only, so shifting both positions by the same amount changes nothing.
    g = torch.Generator().manual_seed(seed)
    d = 2 * half_d
    q, k = torch.randn(1, d, generator=g), torch.randn(1, d, generator=g)

    def score(a, b):
        qa, kb = call(impl, q, torch.tensor([a])), call(impl, k, torch.tensor([b]))
        expect_tensor(qa, say(en=f"apply_rotary on (1, {d})", zh=f"(1, {d}) 上的 apply_rotary"), shape=(1, d), dtype=torch.float32)
        return (qa.double() * kb.double()).sum().float()

    want = (oracle(q, torch.tensor([m])).double() * oracle(k, torch.tensor([n])).double()).sum().float()
    expect_close(score(m, n), want, say(en=f"⟨R(q, {m}), R(k, {n})⟩ for d = {d}", zh=f"d = {d} 时的 ⟨R(q, {m}), R(k, {n})⟩"),
                 atol=1e-4, rtol=1e-4, hint=HINT)
    expect_close(score(m + shift, n + shift), score(m, n),
                 say(en=f"⟨R(q, {m + shift}), R(k, {n + shift})⟩ vs ⟨R(q, {m}), R(k, {n})⟩ (same offset m − n)",
                     zh=f"⟨R(q, {m + shift}), R(k, {n + shift})⟩ 与 ⟨R(q, {m}), R(k, {n})⟩ 的对比（相同的偏移 m − n）"),
                 atol=1e-4, rtol=1e-4,
                 hint=say(en="The score must depend on m − n only. ", zh="分数只能依赖 m − n。") + HINT)
