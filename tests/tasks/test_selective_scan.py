"""selective-scan: selective_scan(x, delta, A, B, C, D) against an explicit float64 loop over time and state."""
import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor, say

HINT = say(en="h has shape (Bt, Din, N), h_0 = 0. Each step: h = exp(Δ_t[..., None] * A) * h + (Δ_t * x_t)[..., None] * "
              "B_t[:, None, :]; then y_t = (h * C_t[:, None, :]).sum(-1) + D * x_t. Δ is used as given (no softplus), "
              "and B is discretized by Euler, B̄ = Δ·B, not by the zero-order hold (exp(ΔA) − 1)/A · B of the Mamba "
              "paper's Eq. (4).",
           zh="h 的形状是 (Bt, Din, N)，h_0 = 0。每一步：h = exp(Δ_t[..., None] * A) * h + (Δ_t * x_t)[..., None] * "
              "B_t[:, None, :]；然后 y_t = (h * C_t[:, None, :]).sum(-1) + D * x_t。Δ 按给定值直接使用（不做 softplus），"
              "B 用欧拉法离散化，B̄ = Δ·B，而不是 Mamba 论文式 (4) 的零阶保持 (exp(ΔA) − 1)/A · B。")

SCAN_MISTAKES = {
    "b_without_delta": say(en="the input enters as B_t x_t without the step size; the Euler discretization of B is "
                              "B̄ = Δ·B: add (Δ_t x_t) B_t.",
                           zh="输入以 B_t x_t 进入，没有乘步长；B 的欧拉离散化是 B̄ = Δ·B：应加上 (Δ_t x_t) B_t。"),
    "euler_a": say(en="A discretized as 1 + Δ·A (Euler); the state decays by exp(Δ·A) (zero-order hold).",
                   zh="A 被离散化为 1 + Δ·A（欧拉法）；状态应按 exp(Δ·A) 衰减（零阶保持）。"),
    "no_d": say(en="the skip term D ⊙ x_t is missing from the output; y_t = h_t C_t + D ⊙ x_t.",
                zh="输出中缺少跳连项 D ⊙ x_t；y_t = h_t C_t + D ⊙ x_t。"),
    "before_update": say(en="the output is read from the previous state h_{t−1}; update h with step t's input first, "
                            "then y_t = h_t C_t + D x_t.",
                         zh="输出读的是上一步的状态 h_{t−1}；应先用第 t 步的输入更新 h，再算 y_t = h_t C_t + D x_t。"),
    "softplus": say(en="softplus applied to Δ; the task passes Δ already positive — use it as given.",
                    zh="对 Δ 做了 softplus；题目给的 Δ 已经是正的——直接使用。"),
    "zoh_b": say(en="B discretized by the zero-order hold (exp(ΔA) − 1)/A · B; the task uses the Euler step B̄ = Δ·B.",
                 zh="B 用零阶保持 (exp(ΔA) − 1)/A · B 离散化；本题用欧拉步 B̄ = Δ·B。"),
}


def scan(x, delta, A, B, C, D, mistake=None):
    """The scan vectorized over batch, channel and state, in float64, optionally with one known mistake."""
    x, delta, A, B, C, D = (t.detach().double() for t in (x, delta, A, B, C, D))
    if mistake == "softplus":
        delta = torch.nn.functional.softplus(delta)
    dA = 1 + delta[..., None] * A if mistake == "euler_a" else torch.exp(delta[..., None] * A)
    if mistake == "b_without_delta":
        dBx = x[..., None] * B[:, :, None, :]
    elif mistake == "zoh_b":
        dBx = (torch.exp(delta[..., None] * A) - 1) / A * x[..., None] * B[:, :, None, :]
    else:
        dBx = (delta * x)[..., None] * B[:, :, None, :]
    h = torch.zeros(x.size(0), x.size(2), A.size(1), dtype=torch.float64)
    ys = []
    for t in range(x.size(1)):
        if mistake == "before_update":
            ys.append((h * C[:, t, None, :]).sum(-1))
        h = dA[:, t] * h + dBx[:, t]
        if mistake != "before_update":
            ys.append((h * C[:, t, None, :]).sum(-1))
    y = torch.stack(ys, dim=1)
    return (y if mistake == "no_d" else y + D * x).float()


def likely_scan_mistakes(*args):
    """What each known mistake gives on these inputs, with its cause (expect_close(likely=...))."""
    return tuple((scan(*args, mistake=m), cause) for m, cause in SCAN_MISTAKES.items())


def oracle(x, delta, A, B, C, D):
    """The recurrence written element by element, in float64."""
    x, delta, A, B, C, D = (t.double() for t in (x, delta, A, B, C, D))
    Bt, L, Din = x.shape
    N = A.size(1)
    y = torch.zeros(Bt, L, Din, dtype=torch.float64)
    for b in range(Bt):
        h = torch.zeros(Din, N, dtype=torch.float64)
        for t in range(L):
            for i in range(Din):
                for n in range(N):
                    h[i, n] = torch.exp(delta[b, t, i] * A[i, n]) * h[i, n] + delta[b, t, i] * B[b, t, n] * x[b, t, i]
                y[b, t, i] = (h[i] * C[b, t]).sum() + D[i] * x[b, t, i]
    return y.float()


def draw(seed, Bt, L, Din, N, delta_scale=1.0):
    """Inputs with A < 0 (a stable, decaying state) and Δ > 0."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(Bt, L, Din, generator=g)
    delta = delta_scale * (0.1 + torch.rand(Bt, L, Din, generator=g))
    A = -(0.2 + 2 * torch.rand(Din, N, generator=g))
    B, C = torch.randn(Bt, L, N, generator=g), torch.randn(Bt, L, N, generator=g)
    D = torch.randn(Din, generator=g)
    return x, delta, A, B, C, D


def call(impl, args):
    x = args[0]
    y = impl.selective_scan(*args)
    Bt, L, Din = x.shape
    what = f"selective_scan(Bt={Bt}, L={L}, Din={Din}, N={args[2].size(1)})"
    expect_tensor(y, what, shape=(Bt, L, Din), dtype=torch.float32)
    return y, what


def test_equals_the_explicit_loop(impl):
    args = draw(0, 2, 6, 3, 4)
    y, what = call(impl, args)
    expect_close(y, oracle(*args), what, atol=1e-5, hint=HINT, likely=likely_scan_mistakes(*args))


def test_first_step(impl):
    # h_1 = Δ_1 B_1 x_1 (h_0 = 0), so y_1 = Δ_1 x_1 (B_1·C_1) + D x_1: checks the input term alone.
    args = draw(1, 2, 1, 3, 5)
    x, delta, A, B, C, D = args
    y, what = call(impl, args)
    want = (delta * x * (B * C).sum(-1, keepdim=True) + D * x).float()
    expect_close(y, want, say(en=f"{what} (a single step)", zh=f"{what}（单步）"), atol=1e-5,
                 hint=say(en="With h_0 = 0 the first state is h_1 = (Δ_1 B_1) x_1 — the input is multiplied by Δ (Euler "
                             "discretization of B) — and y_1 = h_1 C_1 + D x_1. The output uses the state AFTER the update.",
                          zh="h_0 = 0 时第一个状态是 h_1 = (Δ_1 B_1) x_1——输入要乘以 Δ（B 的欧拉离散化）——并且 "
                             "y_1 = h_1 C_1 + D x_1。输出用的是更新之后的状态。"),
                 likely=likely_scan_mistakes(*args))


def test_A_is_discretized_with_exp(impl):
    # Large steps Δ·|A| up to ~10: exp(ΔA) stays in (0, 1) while 1 + ΔA is far below −1 and would blow up.
    args = draw(2, 1, 8, 2, 3, delta_scale=4.0)
    y, what = call(impl, args)
    expect_close(y, oracle(*args), say(en=f"{what} with large steps Δ (Δ·|A| up to ~10)",
                                       zh=f"{what}，步长 Δ 较大（Δ·|A| 可达约 10）"), atol=1e-4, rtol=1e-4,
                 hint=say(en="The state decays by Ā = exp(Δ A) per step (zero-order hold), not by 1 + Δ A (the Euler "
                             "approximation, which turns negative once Δ|A| > 1 and diverges once Δ|A| > 2). ",
                          zh="状态每步按 Ā = exp(Δ A) 衰减（零阶保持），而不是 1 + Δ A（欧拉近似，Δ|A| > 1 时变为负数，"
                             "Δ|A| > 2 时发散）。") + HINT,
                 likely=likely_scan_mistakes(*args))


def test_D_skip_connection(impl):
    x, delta, A, B, C, D = draw(3, 2, 5, 4, 2)
    y, what = call(impl, (x, delta, A, B, C, D))
    y0, _ = call(impl, (x, delta, A, B, C, torch.zeros_like(D)))
    expect_close(y - y0, (D * x).float(), say(en=f"{what}: output with D minus output with D = 0",
                                              zh=f"{what}：带 D 的输出减去 D = 0 时的输出"), atol=1e-5,
                 hint=say(en="y_t = h_t C_t + D ⊙ x_t: the skip term D ⊙ x_t is added per channel and does not enter "
                             "the state.",
                          zh="y_t = h_t C_t + D ⊙ x_t：跳连项 D ⊙ x_t 按通道加到输出上，不进入状态。"),
                 likely=((torch.zeros_like(x), SCAN_MISTAKES["no_d"]),))


def test_causal_future_does_not_change_the_past(impl):
    x, delta, A, B, C, D = draw(4, 2, 9, 3, 3)
    y, what = call(impl, (x, delta, A, B, C, D))
    x2, delta2, B2, C2 = x.clone(), delta.clone(), B.clone(), C.clone()
    x2[:, 6:] += 2.0
    delta2[:, 6:] *= 3.0
    B2[:, 6:] -= 1.0
    C2[:, 6:] *= -2.0
    y2, _ = call(impl, (x2, delta2, A, B2, C2, D))
    diff = (y2[:, :6] - y[:, :6]).abs().max().item()
    expect(diff < 1e-6,
           say(en=f"{what}: changing the inputs at steps 6..8 changed the outputs at steps 0..5 by up to {diff:.3g}. "
                  "The scan is causal: y_t depends only on inputs at steps ≤ t (scan forward in time).",
               zh=f"{what}：改动第 6..8 步的输入后，第 0..5 步的输出最多变了 {diff:.3g}。扫描是因果的："
                  "y_t 只依赖第 ≤ t 步的输入（沿时间正向扫描）。"))


def test_state_carries_over_time(impl):
    # An input only at step 0 (x = 0 afterwards): y_t = Σ_n exp(A (Δ_1 + … + Δ_t)) Δ_0 B_0 x_0 C_t decays over time.
    x, delta, A, B, C, D = draw(5, 1, 6, 2, 3)
    x = torch.zeros_like(x)
    x[:, 0] = torch.tensor([1.5, -2.0])
    y, what = call(impl, (x, delta, A, B, C, D))
    expect_close(y, oracle(x, delta, A, B, C, D), say(en=f"{what}, input only at step 0 (an impulse)",
                                                      zh=f"{what}，只在第 0 步有输入（脉冲）"), atol=1e-5,
                 hint=say(en="After the impulse the state keeps decaying by exp(Δ_t A) at every step and is read out by "
                             "C_t; h must be carried from step to step (one state per batch element and channel). ",
                          zh="脉冲之后状态每一步都按 exp(Δ_t A) 继续衰减，并由 C_t 读出；h 必须一步步传下去"
                             "（每个 batch 元素、每个通道各一个状态）。") + HINT,
                 likely=likely_scan_mistakes(x, delta, A, B, C, D))


def test_deterministic(impl):
    args = draw(6, 1, 3, 2, 2)
    expect_deterministic(impl.selective_scan, *args, what="selective_scan")


@given(st.integers(1, 3), st.integers(1, 5), st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**16))
def test_property_any_shape(impl, Bt, L, Din, N, seed):
    args = draw(seed, Bt, L, Din, N)
    y, what = call(impl, args)
    expect_close(y, oracle(*args), what, atol=1e-4, rtol=1e-4, hint=HINT, likely=likely_scan_mistakes(*args))
