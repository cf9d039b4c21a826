"""spectral-norm: v = normalize(Wᵀu), u_new = normalize(Wv), sigma = u_newᵀ W v; iterating gives ‖W‖₂."""
import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_scalar, expect_tensor

HINT = ("v = Wᵀu / ‖Wᵀu‖ (shape (in,)), u_new = W v / ‖W v‖ (shape (out,)), sigma = u_newᵀ W v — in that order, "
        "with the NEW u in sigma, and return (sigma, u_new).")


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
        res = impl.spectral_norm_step(W, u)
        expect(isinstance(res, tuple) and len(res) == 2,
               f"spectral_norm_step must return a pair (sigma, u_new); got {type(res).__name__}")
        sigma, u_new = res
        what = f"spectral_norm_step(W ({out}, {inn}), u ({out},))"
        expect_tensor(sigma, f"{what}[0] (sigma)", shape=(), dtype=torch.float32)
        expect_tensor(u_new, f"{what}[1] (u_new)", shape=(out,), dtype=torch.float32)
        want_sigma, want_u = oracle(W, u)
        expect_close(u_new, want_u.float(), f"u_new from {what}", atol=1e-5, rtol=1e-4,
                     hint="u_new = normalize(W v) with v = normalize(Wᵀ u): Wᵀ first (shape (in,)), then W. "
                          "Return the NEW vector, not the u you were given. " + HINT)
        expect_scalar(sigma, want_sigma.float(), f"sigma from {what}", atol=1e-5, rtol=1e-4,
                      hint="sigma = u_newᵀ W v uses the updated u and the normalized v; it is not ‖W‖_F and not "
                           "uᵀ W v with the old u. " + HINT)


def test_u_new_has_unit_norm_for_any_scale_of_u(impl):
    W = torch.randn(4, 7, generator=torch.Generator().manual_seed(1))
    u = torch.randn(4, generator=torch.Generator().manual_seed(2))
    s1, u1 = impl.spectral_norm_step(W, u)
    s2, u2 = impl.spectral_norm_step(W, 250.0 * u)
    expect_scalar(u1.double().norm().float(), 1.0, "‖u_new‖₂", atol=1e-5,
                  hint="Normalize W v to unit length: u_new = W v / ‖W v‖. " + HINT)
    expect_close(u2, u1.detach(), "u_new for u scaled by 250 vs. for u", atol=1e-5, rtol=1e-4,
                 hint="v = normalize(Wᵀu) removes the scale of u; normalize both vectors. " + HINT)
    expect_close(s2, s1.detach(), "sigma for u scaled by 250 vs. for u", atol=1e-5, rtol=1e-4, hint=HINT)


def test_iterating_converges_to_the_spectral_norm(impl):
    # Singular values 3, 1.5, 1, 0.4: each step shrinks the error in u by (1.5/3)² = 1/4, so 60 steps converge fully.
    for out, inn, seed in ((6, 4, 3), (3, 5, 4)):
        W = matrix_with_singular_values(out, inn, [3.0, 1.5, 1.0, 0.4][: min(out, inn)], seed)
        u = torch.randn(out, generator=torch.Generator().manual_seed(seed + 10))
        for _ in range(60):
            sigma, u = impl.spectral_norm_step(W, u)
        want = torch.linalg.matrix_norm(W.double(), 2)
        expect_scalar(sigma, want.float(), f"sigma after 60 steps on W ({out}, {inn}) with singular values 3, 1.5, …",
                      atol=1e-5, rtol=1e-4,
                      hint="Power iteration converges to the largest singular value (torch.linalg.matrix_norm(W, 2) "
                           "= 3 here) only if each step multiplies by Wᵀ and then by W, normalizes, and returns the "
                           "new u to be fed back. " + HINT)
        normalized = torch.linalg.matrix_norm(W.double() / sigma.double(), 2).item()
        expect(abs(normalized - 1) < 1e-4,
               f"after 60 steps, W / sigma should have spectral norm 1 (the point of spectral normalization); it "
               f"has {normalized:.6f}. " + HINT)


def test_sigma_never_exceeds_the_spectral_norm(impl):
    # u_newᵀ W v with unit u_new and v is at most σ_max, and it grows monotonically from any start.
    W = matrix_with_singular_values(5, 5, [2.0, 1.9, 0.5, 0.2, 0.1], 5)
    u = torch.randn(5, generator=torch.Generator().manual_seed(6))
    sigmas = []
    for _ in range(8):
        sigma, u = impl.spectral_norm_step(W, u)
        sigmas.append(float(sigma))
    expect(max(sigmas) <= 2.0 + 1e-5,
           f"the sigma estimates {[round(s, 4) for s in sigmas]} exceed the true spectral norm 2; with unit vectors "
           "u_newᵀ W v cannot — are both vectors normalized, and is sigma not ‖W‖_F? " + HINT)
    expect(all(b >= a - 1e-5 for a, b in zip(sigmas, sigmas[1:])),
           f"power iteration's estimate should never decrease; got {[round(s, 4) for s in sigmas]}. " + HINT)


def test_deterministic_and_inputs_unchanged(impl):
    W = torch.randn(3, 4, generator=torch.Generator().manual_seed(7))
    u = torch.randn(3, generator=torch.Generator().manual_seed(8))
    W0, u0 = W.clone(), u.clone()
    expect_deterministic(impl.spectral_norm_step, W, u, what="spectral_norm_step(W, u)")
    impl.spectral_norm_step(W, u)
    expect(torch.equal(W, W0) and torch.equal(u, u0),
           "spectral_norm_step modified W or u in place (PyTorch's own spectral_norm updates its u buffer in "
           "place; here return u_new instead).")


@given(st.integers(1, 5), st.integers(1, 5), st.integers(0, 2**16))
def test_property_any_shape(impl, out, inn, seed):
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(out, inn, generator=g)
    u = torch.randn(out, generator=g)
    sigma, u_new = impl.spectral_norm_step(W, u)
    want_sigma, want_u = oracle(W, u)
    expect_close(u_new, want_u.float(), f"u_new for W of shape ({out}, {inn})", atol=1e-4, rtol=1e-3, hint=HINT)
    expect_scalar(sigma, want_sigma.float(), f"sigma for W of shape ({out}, {inn})", atol=1e-4, rtol=1e-3,
                  hint=HINT)
