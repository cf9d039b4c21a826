"""selective-scan: selective_scan(x, delta, A, B, C, D) against an explicit float64 loop over time and state."""
import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor

HINT = ("h has shape (Bt, Din, N), h_0 = 0. Each step: h = exp(Δ_t[..., None] * A) * h + (Δ_t * x_t)[..., None] * "
        "B_t[:, None, :]; then y_t = (h * C_t[:, None, :]).sum(-1) + D * x_t. Δ is used as given (no softplus), and B "
        "is discretized by Euler, B̄ = Δ·B, not by the zero-order hold (exp(ΔA) − 1)/A · B of the Mamba paper's Eq. (4).")


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
    what = f"selective_scan with Bt={Bt}, L={L}, Din={Din}, N={args[2].size(1)}"
    expect_tensor(y, what, shape=(Bt, L, Din), dtype=torch.float32)
    return y, what


def test_equals_the_explicit_loop(impl):
    args = draw(0, 2, 6, 3, 4)
    y, what = call(impl, args)
    expect_close(y, oracle(*args), what, atol=1e-5, hint=HINT)


def test_first_step(impl):
    # h_1 = Δ_1 B_1 x_1 (h_0 = 0), so y_1 = Δ_1 x_1 (B_1·C_1) + D x_1: checks the input term alone.
    args = draw(1, 2, 1, 3, 5)
    x, delta, A, B, C, D = args
    y, what = call(impl, args)
    want = (delta * x * (B * C).sum(-1, keepdim=True) + D * x).float()
    expect_close(y, want, f"{what} (a single step)", atol=1e-5,
                 hint="With h_0 = 0 the first state is h_1 = (Δ_1 B_1) x_1 — the input is multiplied by Δ (Euler "
                      "discretization of B) — and y_1 = h_1 C_1 + D x_1. The output uses the state AFTER the update.")


def test_A_is_discretized_with_exp(impl):
    # Large steps Δ·|A| up to ~10: exp(ΔA) stays in (0, 1) while 1 + ΔA is far below −1 and would blow up.
    args = draw(2, 1, 8, 2, 3, delta_scale=4.0)
    y, what = call(impl, args)
    expect_close(y, oracle(*args), f"{what} with large steps Δ (Δ·|A| up to ~10)", atol=1e-4, rtol=1e-4,
                 hint="The state decays by Ā = exp(Δ A) per step (zero-order hold), not by 1 + Δ A (the Euler "
                      "approximation, which turns negative once Δ|A| > 1 and diverges once Δ|A| > 2). " + HINT)


def test_D_skip_connection(impl):
    x, delta, A, B, C, D = draw(3, 2, 5, 4, 2)
    y, what = call(impl, (x, delta, A, B, C, D))
    y0, _ = call(impl, (x, delta, A, B, C, torch.zeros_like(D)))
    expect_close(y - y0, (D * x).float(), f"{what}: output with D minus output with D = 0", atol=1e-5,
                 hint="y_t = h_t C_t + D ⊙ x_t: the skip term D ⊙ x_t is added per channel and does not enter the state.")


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
           f"{what}: changing the inputs at steps 6..8 changed the outputs at steps 0..5 by up to {diff:.3g}. The scan "
           "is causal: y_t depends only on inputs at steps ≤ t (scan forward in time).")


def test_state_carries_over_time(impl):
    # An input only at step 0 (x = 0 afterwards): y_t = Σ_n exp(A (Δ_1 + … + Δ_t)) Δ_0 B_0 x_0 C_t decays over time.
    x, delta, A, B, C, D = draw(5, 1, 6, 2, 3)
    x = torch.zeros_like(x)
    x[:, 0] = torch.tensor([1.5, -2.0])
    y, what = call(impl, (x, delta, A, B, C, D))
    expect_close(y, oracle(x, delta, A, B, C, D), f"{what}, input only at step 0 (an impulse)", atol=1e-5,
                 hint="After the impulse the state keeps decaying by exp(Δ_t A) at every step and is read out by C_t; "
                      "h must be carried from step to step (one state per batch element and channel). " + HINT)


def test_deterministic(impl):
    args = draw(6, 1, 3, 2, 2)
    expect_deterministic(impl.selective_scan, *args, what="selective_scan")


@given(st.integers(1, 3), st.integers(1, 5), st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**16))
def test_property_any_shape(impl, Bt, L, Din, N, seed):
    args = draw(seed, Bt, L, Din, N)
    y, what = call(impl, args)
    expect_close(y, oracle(*args), what, atol=1e-4, rtol=1e-4, hint=HINT)
