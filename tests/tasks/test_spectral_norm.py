"""spectral-norm: v = normalize(Wᵀu), u_new = normalize(Wv), sigma = u_newᵀ W v; iterating gives ‖W‖₂."""
import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import CheckFailed, expect, expect_close, expect_deterministic, expect_scalar, expect_tensor, say

HINT = say(en="v = Wᵀu / ‖Wᵀu‖ (shape (in,)), u_new = W v / ‖W v‖ (shape (out,)), sigma = u_newᵀ W v — in that order, "
              "with the NEW u in sigma, and return (sigma, u_new).",
           zh="v = Wᵀu / ‖Wᵀu‖（形状 (in,)），u_new = W v / ‖W v‖（形状 (out,)），sigma = u_newᵀ W v——按这个顺序，"
              "sigma 里用新的 u，并返回 (sigma, u_new)。")

SWAPPED = say(en="the roles of W and Wᵀ are swapped (v = normalize(W u)); take v = normalize(Wᵀ u) first, then "
                 "u_new = normalize(W v).",
              zh="W 和 Wᵀ 的角色弄反了（v = normalize(W u)）；应先取 v = normalize(Wᵀ u)，再取 u_new = normalize(W v)。")


def likely_u_mistakes(W, u):
    """What the usual mistakes return as u_new, each with its cause (expect_close(likely=...))."""
    W64, u64 = W.double(), u.double()
    out = [(u64, say(en="the u you were given is returned; return the NEW vector u_new = normalize(W v).",
                     zh="返回的是传入的 u；应返回新向量 u_new = normalize(W v)。"))]
    if W.size(0) == W.size(1):
        v = W64 @ u64
        v = v / v.norm()
        b = W64.T @ v
        out.append((b / b.norm(), SWAPPED))
    return tuple((x.float(), c) for x, c in out)


def likely_sigma_mistakes(W, u):
    """What the usual mistakes return as sigma, each with its cause (expect_scalar(likely=...))."""
    W64, u64 = W.double(), u.double()
    a = W64.T @ u64
    v = a / a.norm()
    b = W64 @ v
    u_new = b / b.norm()
    out = [(W64.norm(), say(en="the Frobenius norm ‖W‖_F as sigma; sigma = u_newᵀ W v estimates the SPECTRAL norm.",
                            zh="把 Frobenius 范数 ‖W‖_F 当成了 sigma；sigma = u_newᵀ W v 估计的是谱范数。")),
           (u64 @ b, say(en="sigma = uᵀ W v with the OLD u; use the updated u_new.",
                         zh="sigma = uᵀ W v 用的是旧的 u；应使用更新后的 u_new。")),
           (u_new @ (W64 @ a), say(en="v = Wᵀu is not normalized, so sigma carries the length of Wᵀu; normalize v.",
                                    zh="v = Wᵀu 没有归一化，于是 sigma 带上了 Wᵀu 的长度；要把 v 归一化。"))]
    if W.size(0) == W.size(1):
        vs = W64 @ u64
        vs = vs / vs.norm()
        us = W64.T @ vs
        us = us / us.norm()
        out.append((vs @ (W64 @ us), SWAPPED))
    return tuple((x.float(), c) for x, c in out)


def oracle(W, u):
    """One step in float64, written out."""
    W64, u64 = W.double(), u.double()
    a = W64.T @ u64
    v = a / torch.sqrt((a * a).sum())
    b = W64 @ v
    u_new = b / torch.sqrt((b * b).sum())
    return (u_new * b).sum(), u_new


def matrix_with_singular_values(out, inn, values, seed):
    """U diag(values) Vᵀ with random orthonormal U, V: the spectral norm is max(values), known exactly."""
    g = torch.Generator().manual_seed(seed)
    U, _ = torch.linalg.qr(torch.randn(out, out, generator=g, dtype=torch.float64))
    V, _ = torch.linalg.qr(torch.randn(inn, inn, generator=g, dtype=torch.float64))
    k = len(values)
    S = torch.zeros(out, inn, dtype=torch.float64)
    S[range(k), range(k)] = torch.tensor(values, dtype=torch.float64)
    return (U @ S @ V.T).float()


def test_one_step_matches_the_formulas(impl):
    g = torch.Generator().manual_seed(0)
    for out, inn in ((5, 3), (3, 6), (4, 4)):
        W = torch.randn(out, inn, generator=g)
        u = torch.randn(out, generator=g)
        try:
            res = impl.spectral_norm_step(W, u)
        except NotImplementedError:
            raise  # the untouched stub: reported as not attempted
        except RuntimeError as exc:
            if out == inn:
                raise
            raise CheckFailed(say(en=f"spectral_norm_step(W ({out}, {inn}), u ({out},)) raised RuntimeError: {exc}. u has "
                                     f"shape (out,) = ({out},), so the first product must be Wᵀu (shape (in,)) and the "
                                     "second W v (shape (out,)) — are W and Wᵀ swapped?",
                                  zh=f"spectral_norm_step(W ({out}, {inn}), u ({out},)) 抛出了 RuntimeError：{exc}。u 的形状"
                                     f"是 (out,) = ({out},)，所以第一次乘的必须是 Wᵀu（形状 (in,)），第二次是 W v（形状 "
                                     "(out,)）——是不是把 W 和 Wᵀ 弄反了？").render()) from None
        expect(isinstance(res, tuple) and len(res) == 2,
               say(en=f"spectral_norm_step must return a pair (sigma, u_new); got {type(res).__name__}",
                   zh=f"spectral_norm_step 必须返回二元组 (sigma, u_new)；实际得到 {type(res).__name__}"))
        sigma, u_new = res
        what = f"spectral_norm_step(W ({out}, {inn}), u ({out},))"
        expect_tensor(sigma, f"{what}[0] (sigma)", shape=(), dtype=torch.float32)
        expect_tensor(u_new, f"{what}[1] (u_new)", shape=(out,), dtype=torch.float32)
        want_sigma, want_u = oracle(W, u)
        expect_close(u_new, want_u.float(), say(en=f"u_new from {what}", zh=f"{what} 返回的 u_new"), atol=1e-5, rtol=1e-4,
                     hint=say(en="u_new = normalize(W v) with v = normalize(Wᵀ u): Wᵀ first (shape (in,)), then W. "
                                 "Return the NEW vector, not the u you were given. ",
                              zh="u_new = normalize(W v)，其中 v = normalize(Wᵀ u)：先乘 Wᵀ（形状 (in,)），再乘 W。"
                                 "返回新向量，而不是传入的 u。") + HINT,
                     likely=likely_u_mistakes(W, u))
        expect_scalar(sigma, want_sigma.float(), say(en=f"sigma from {what}", zh=f"{what} 返回的 sigma"), atol=1e-5, rtol=1e-4,
                      hint=say(en="sigma = u_newᵀ W v uses the updated u and the normalized v; it is not ‖W‖_F and not "
                                  "uᵀ W v with the old u. ",
                               zh="sigma = u_newᵀ W v 用的是更新后的 u 和归一化后的 v；它不是 ‖W‖_F，也不是用旧 u 算的 "
                                  "uᵀ W v。") + HINT,
                      likely=likely_sigma_mistakes(W, u))


def test_u_new_has_unit_norm_for_any_scale_of_u(impl):
    W = torch.randn(4, 7, generator=torch.Generator().manual_seed(1))
    u = torch.randn(4, generator=torch.Generator().manual_seed(2))
    s1, u1 = impl.spectral_norm_step(W, u)
    s2, u2 = impl.spectral_norm_step(W, 250.0 * u)
    expect_scalar(u1.double().norm().float(), 1.0, "‖u_new‖₂", atol=1e-5,
                  hint=say(en="Normalize W v to unit length: u_new = W v / ‖W v‖ — and return it, not the u you were "
                              "given. ",
                           zh="把 W v 归一化为单位长度：u_new = W v / ‖W v‖——并返回它，而不是传入的 u。") + HINT)
    expect_close(u2, u1.detach(), say(en="u_new for u scaled by 250 vs. for u", zh="u 放大 250 倍与原 u 得到的 u_new 对比"),
                 atol=1e-5, rtol=1e-4,
                 hint=say(en="v = normalize(Wᵀu) removes the scale of u; normalize both vectors. ",
                          zh="v = normalize(Wᵀu) 会消去 u 的尺度；两个向量都要归一化。") + HINT)
    expect_close(s2, s1.detach(), say(en="sigma for u scaled by 250 vs. for u", zh="u 放大 250 倍与原 u 得到的 sigma 对比"),
                 atol=1e-5, rtol=1e-4,
                 hint=say(en="sigma must not depend on the scale of u: normalize v = Wᵀu and use u_new (a unit vector), "
                             "not the u you were given. ",
                          zh="sigma 不能依赖 u 的尺度：要把 v = Wᵀu 归一化，并使用单位向量 u_new，而不是传入的 u。") + HINT)


def test_iterating_converges_to_the_spectral_norm(impl):
    # Singular values 3, 1.5, 1, 0.4: each step shrinks the error in u by (1.5/3)² = 1/4, so 60 steps converge fully.
    for out, inn, seed in ((6, 4, 3), (3, 5, 4)):
        W = matrix_with_singular_values(out, inn, [3.0, 1.5, 1.0, 0.4][: min(out, inn)], seed)
        u = torch.randn(out, generator=torch.Generator().manual_seed(seed + 10))
        for _ in range(60):
            sigma, u = impl.spectral_norm_step(W, u)
        want = torch.linalg.matrix_norm(W.double(), 2)
        expect_scalar(sigma, want.float(),
                      say(en=f"sigma after 60 steps on W ({out}, {inn}) with singular values 3, 1.5, …",
                          zh=f"在奇异值为 3, 1.5, … 的 W ({out}, {inn}) 上迭代 60 步后的 sigma"),
                      atol=1e-5, rtol=1e-4,
                      hint=say(en="Power iteration converges to the largest singular value (torch.linalg.matrix_norm(W, "
                                  "2) = 3 here) only if each step multiplies by Wᵀ and then by W, normalizes, and "
                                  "returns the new u to be fed back. ",
                               zh="只有每一步先乘 Wᵀ 再乘 W、做归一化，并返回新的 u 供下一步使用，幂迭代才会收敛到最大"
                                  "奇异值（这里 torch.linalg.matrix_norm(W, 2) = 3）。") + HINT,
                      likely=likely_sigma_mistakes(W, u))
        normalized = torch.linalg.matrix_norm(W.double() / sigma.double(), 2).item()
        expect(abs(normalized - 1) < 1e-4,
               say(en=f"after 60 steps, W / sigma should have spectral norm 1 (the point of spectral normalization); "
                      f"it has {normalized:.6f}. ",
                   zh=f"迭代 60 步后 W / sigma 的谱范数应为 1（这正是谱归一化的目的）；实际是 {normalized:.6f}。") + HINT)


def test_sigma_never_exceeds_the_spectral_norm(impl):
    # u_newᵀ W v with unit u_new and v is at most σ_max, and it grows monotonically from any start.
    W = matrix_with_singular_values(5, 5, [2.0, 1.9, 0.5, 0.2, 0.1], 5)
    u = torch.randn(5, generator=torch.Generator().manual_seed(6))
    sigmas = []
    for _ in range(8):
        sigma, u = impl.spectral_norm_step(W, u)
        sigmas.append(float(sigma))
    expect(max(sigmas) <= 2.0 + 1e-5,
           say(en=f"the sigma estimates {[round(s, 4) for s in sigmas]} exceed the true spectral norm 2; with unit "
                  "vectors u_newᵀ W v cannot — are both vectors normalized, and is sigma not ‖W‖_F? ",
               zh=f"sigma 的估计 {[round(s, 4) for s in sigmas]} 超过了真实谱范数 2；用单位向量时 u_newᵀ W v 不可能超过它"
                  "——两个向量都归一化了吗？sigma 是不是用成了 ‖W‖_F？") + HINT)
    expect(all(b >= a - 1e-5 for a, b in zip(sigmas, sigmas[1:])),
           say(en=f"power iteration's estimate should never decrease; got {[round(s, 4) for s in sigmas]}. ",
               zh=f"幂迭代的估计不应下降；实际是 {[round(s, 4) for s in sigmas]}。") + HINT)


def test_deterministic_and_inputs_unchanged(impl):
    W = torch.randn(3, 4, generator=torch.Generator().manual_seed(7))
    u = torch.randn(3, generator=torch.Generator().manual_seed(8))
    W0, u0 = W.clone(), u.clone()
    expect_deterministic(impl.spectral_norm_step, W, u, what="spectral_norm_step(W, u)")
    impl.spectral_norm_step(W, u)
    expect(torch.equal(W, W0) and torch.equal(u, u0),
           say(en="spectral_norm_step modified W or u in place (PyTorch's own spectral_norm updates its u buffer in "
                  "place; here return u_new instead).",
               zh="spectral_norm_step 原地修改了 W 或 u（PyTorch 自带的 spectral_norm 会原地更新 u 缓冲区；"
                  "这里要改为返回 u_new）。"))


@given(st.integers(1, 5), st.integers(1, 5), st.integers(0, 2**16))
def test_property_any_shape(impl, out, inn, seed):
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(out, inn, generator=g)
    u = torch.randn(out, generator=g)
    sigma, u_new = impl.spectral_norm_step(W, u)
    want_sigma, want_u = oracle(W, u)
    expect_close(u_new, want_u.float(), say(en=f"u_new for W of shape ({out}, {inn})", zh=f"形状为 ({out}, {inn}) 的 W 的 u_new"),
                 atol=1e-4, rtol=1e-3, hint=HINT, likely=likely_u_mistakes(W, u))
    expect_scalar(sigma, want_sigma.float(), say(en=f"sigma for W of shape ({out}, {inn})", zh=f"形状为 ({out}, {inn}) 的 W 的 sigma"),
                  atol=1e-4, rtol=1e-3, hint=HINT, likely=likely_sigma_mistakes(W, u))
