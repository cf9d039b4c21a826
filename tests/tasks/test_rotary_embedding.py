"""rotary-embedding: apply_rotary(x, positions, base) rotates each pair (x[2i], x[2i+1]) by p·base^(−2i/d)."""
import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect_close, expect_tensor

HINT = ("Treat (x[..., 2i], x[..., 2i+1]) as the complex number x[2i] + i·x[2i+1] and multiply it by e^{iθ}, "
        "θ = positions[t] · base^(−2i/d): y[2i] = x[2i]cos θ − x[2i+1]sin θ, y[2i+1] = x[2i]sin θ + x[2i+1]cos θ. "
        "Pairs are ADJACENT features (0,1), (2,3), … — not (i, i + d/2).")


def oracle(x, positions, base=10000.0):
    """Complex multiplication in float64: view pairs as complex numbers, multiply by e^{iθ}."""
    d = x.shape[-1]
    z = torch.view_as_complex(x.double().reshape(*x.shape[:-1], d // 2, 2).contiguous())  # (..., T, d/2)
    theta = positions.double()[:, None] * base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)  # (T, d/2)
    rotated = z * torch.polar(torch.ones_like(theta), theta)
    return torch.view_as_real(rotated).reshape(x.shape).float()


def call(impl, x, positions, base=None):
    return impl.apply_rotary(x, positions) if base is None else impl.apply_rotary(x, positions, base)


def test_matches_complex_multiplication(impl):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 5, 8, generator=g)  # (B, H, T, d)
    positions = torch.arange(5)
    got = call(impl, x, positions)
    expect_tensor(got, "apply_rotary(x (2, 3, 5, 8), arange(5))", shape=(2, 3, 5, 8), dtype=torch.float32)
    expect_close(got, oracle(x, positions), "apply_rotary(x, arange(5))", atol=1e-5, hint=HINT)


def test_position_zero_is_identity_and_position_one_rotates_pair_zero_by_one_radian(impl):
    x = torch.tensor([[1.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 1.0]])  # (T=2, d=4)
    got = call(impl, x, torch.tensor([0, 1]))
    expect_tensor(got, "apply_rotary on (2, 4)", shape=(2, 4), dtype=torch.float32)
    expect_close(got[0], x[0], "row at position 0 (angle 0: nothing rotates)", atol=1e-6, hint=HINT)
    c1, s1 = torch.cos(torch.tensor(1.0)), torch.sin(torch.tensor(1.0))
    c2, s2 = torch.cos(torch.tensor(0.01)), torch.sin(torch.tensor(0.01))  # base^(−2/4) = 0.01
    want = torch.stack([c1, s1, -s2, c2])  # (1, 0) → (cos 1, sin 1);  (0, 1) → (−sin 0.01, cos 0.01)
    expect_close(got[1], want, "row at position 1 of x = (1, 0, 0, 1)", atol=1e-6,
                 hint="Pair 0 turns by 1 radian, pair 1 by 10000^(−2/4) = 0.01, counter-clockwise (complex "
                      "multiplication by e^{iθ}). " + HINT)


def test_uses_the_given_positions_and_base(impl):
    # Non-contiguous positions (e.g. a KV-cache step, or a shifted window) and a non-default base.
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 4, 6, generator=g)  # (B, T, d)
    positions = torch.tensor([7, 0, 31, 2])
    expect_close(call(impl, x, positions), oracle(x, positions), "apply_rotary(x, positions=[7, 0, 31, 2])",
                 atol=1e-4, hint="Use positions[t] for row t, not t itself. " + HINT)
    expect_close(call(impl, x, positions, 500.0), oracle(x, positions, 500.0),
                 "apply_rotary(x, [7, 0, 31, 2], base=500.0)", atol=1e-4, hint="Use the `base` argument. " + HINT)


def test_large_head_dim(impl):
    g = torch.Generator().manual_seed(2)
    x = torch.randn(1, 16, 64, generator=g)
    positions = torch.arange(100, 116)
    expect_close(call(impl, x, positions), oracle(x, positions), "apply_rotary with d = 64, positions 100..115",
                 atol=1e-4, hint=HINT)


def test_preserves_norms(impl):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(3, 6, 10, generator=g)
    got = call(impl, x, torch.arange(6) * 5)
    expect_tensor(got, "apply_rotary on (3, 6, 10)", shape=(3, 6, 10), dtype=torch.float32)
    expect_close(got.norm(dim=-1), x.norm(dim=-1), "the norm of each rotated vector", atol=1e-5,
                 hint="A rotation preserves lengths: every output pair must be the input pair turned by an angle.")


@given(st.integers(1, 4), st.integers(0, 40), st.integers(0, 40), st.integers(1, 30), st.integers(0, 2**16))
def test_scores_depend_only_on_relative_position(impl, half_d, m, n, shift, seed):
    # Pairwise, ⟨R(q, m), R(k, n)⟩ = Re(Σ_i q_i conj(k_i) e^{i(m−n)θ_i}) with q_i, k_i the complex pairs:
    # it depends on m − n only, so shifting both positions by the same amount changes nothing.
    g = torch.Generator().manual_seed(seed)
    d = 2 * half_d
    q, k = torch.randn(1, d, generator=g), torch.randn(1, d, generator=g)

    def score(a, b):
        qa, kb = call(impl, q, torch.tensor([a])), call(impl, k, torch.tensor([b]))
        expect_tensor(qa, f"apply_rotary on (1, {d})", shape=(1, d), dtype=torch.float32)
        return (qa.double() * kb.double()).sum().float()

    want = (oracle(q, torch.tensor([m])).double() * oracle(k, torch.tensor([n])).double()).sum().float()
    expect_close(score(m, n), want, f"⟨R(q, {m}), R(k, {n})⟩ for d = {d}", atol=1e-4, rtol=1e-4, hint=HINT)
    expect_close(score(m + shift, n + shift), score(m, n),
                 f"⟨R(q, {m + shift}), R(k, {n + shift})⟩ vs ⟨R(q, {m}), R(k, {n})⟩ (same offset m − n)",
                 atol=1e-4, rtol=1e-4, hint="The score must depend on m − n only. " + HINT)
