"""clip-grad-norm: scale every gradient by max_norm/(total_norm + eps) when the GLOBAL L2 norm exceeds max_norm."""
import torch
import torch.nn as nn
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_scalar, expect_tensor

HINT = ("total_norm = √(Σ_i ‖g_i‖²) over ALL tensors together (e.g. vector_norm of the stacked per-tensor norms); "
        "if total_norm > max_norm multiply EVERY tensor by max_norm / (total_norm + eps), else return copies.")


def torch_clip(grads, max_norm):
    """Oracle: torch.nn.utils.clip_grad_norm_ on clones, in float64 (its eps is 1e-6, the default here)."""
    params = [nn.Parameter(torch.zeros_like(g, dtype=torch.float64)) for g in grads]
    for p, g in zip(params, grads):
        p.grad = g.detach().double().clone()
    total = torch.nn.utils.clip_grad_norm_(params, max_norm)
    return [p.grad.float() for p in params], total.float()


def closed_form(grads, max_norm, eps):
    total = sum(float((g.double() ** 2).sum()) for g in grads) ** 0.5
    coef = max_norm / (total + eps) if total > max_norm else 1.0
    return [(g.double() * coef).float() for g in grads], total


def draw(seed, shapes, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return [scale * torch.randn(s, generator=g) for s in shapes]


def call(impl, grads, max_norm, what, eps=None):
    result = impl.clip_grad_norm(grads, max_norm) if eps is None else impl.clip_grad_norm(grads, max_norm, eps)
    expect(isinstance(result, tuple) and len(result) == 2,
           f"{what} should return a tuple (clipped, total_norm), got {type(result).__name__}")
    clipped, total = result
    expect(isinstance(clipped, (list, tuple)) and len(clipped) == len(grads),
           f"{what} should return a list of {len(grads)} clipped tensors, one per input, got {clipped!r:.120}")
    for i, (c, g) in enumerate(zip(clipped, grads)):
        expect_tensor(c, f"{what}: clipped[{i}]", shape=g.shape, dtype=g.dtype)
    expect_tensor(total, f"{what}: total_norm", shape=(), dtype=torch.float32)
    return list(clipped), total


def test_matches_torch_clip_grad_norm(impl):
    for seed, max_norm in ((0, 1.0), (1, 0.5), (2, 3.0)):
        grads = draw(seed, [(3, 4), (5,), (2, 2, 2), ()], scale=2.0)
        what = f"clip_grad_norm(4 tensors, max_norm={max_norm})"
        want, want_total = torch_clip(grads, max_norm)  # before the call, in case it modifies its inputs
        clipped, total = call(impl, grads, max_norm, what)
        expect_scalar(total, want_total, f"{what}: total_norm", atol=1e-5, rtol=1e-5, hint=HINT)
        for i, (c, w) in enumerate(zip(clipped, want)):
            expect_close(c, w, f"{what}: clipped[{i}]", atol=1e-6, rtol=1e-5, hint=HINT)


def test_norm_is_global_not_per_tensor(impl):
    # One large and one small tensor: per-tensor clipping would leave the small one alone.
    big, small = torch.full((4,), 3.0), torch.tensor([0.1, -0.2])
    clipped, total = call(impl, [big.clone(), small.clone()], 1.0, "clip_grad_norm([big (norm 6), small (norm 0.22)], 1.0)")
    expect_scalar(total, (36 + 0.05) ** 0.5, "total_norm of [big (norm 6), small (norm 0.22)]", atol=1e-5, rtol=1e-5,
                  hint="The total norm is √(Σ_i ‖g_i‖²) — the norm of all gradients concatenated, "
                       "not the sum (or max) of the per-tensor norms.")
    coef = 1.0 / ((36.05 ** 0.5) + 1e-6)
    expect_close(clipped[1], small * coef, "the small tensor after clipping [big, small] to 1.0", atol=1e-7, rtol=1e-5,
                 hint="Every tensor is scaled by the SAME factor max_norm / (total_norm + eps), also the small one — "
                      "clipping each tensor by its own norm changes the direction of the update.")
    expect_close(clipped[0], big * coef, "the big tensor after clipping [big, small] to 1.0", atol=1e-7, rtol=1e-5,
                 hint=HINT)


def test_below_the_threshold_nothing_changes(impl):
    grads = draw(3, [(3, 3), (4,)], scale=0.1)  # total norm ≈ 0.35
    want_total = closed_form(grads, 5.0, 1e-6)[1]
    clipped, total = call(impl, grads, 5.0, "clip_grad_norm(grads with norm ≈ 0.35, max_norm=5.0)")
    expect_scalar(total, want_total, "total_norm below the threshold", atol=1e-6, rtol=1e-5,
                  hint="Return the true total norm also when no clipping happens.")
    for i, (c, g) in enumerate(zip(clipped, grads)):
        expect_close(c, g, f"clipped[{i}] when the total norm 0.35 is below max_norm 5", atol=0.0, rtol=1e-6,
                     hint="Clipping only ever shrinks: below the threshold the gradients come back unchanged "
                          "(do not rescale them up to max_norm — that is normalization, not clipping).")
        c.add_(1.0)
        expect(not torch.equal(c, g), "clip_grad_norm returned its input tensor itself below the threshold; "
               "return new tensors (g.clone()) so the caller can modify them safely.")


def test_clipped_norm_equals_max_norm(impl):
    grads = draw(4, [(6,), (2, 3)], scale=5.0)
    clipped, total = call(impl, [g.clone() for g in grads], 2.0, "clip_grad_norm(grads, 2.0)")
    norm = sum(float((c.double() ** 2).sum()) for c in clipped) ** 0.5
    want = 2.0 * float(total) / (float(total) + 1e-6)
    expect(abs(norm - want) < 1e-5,
           f"after clip_grad_norm(grads, 2.0) the global norm of the clipped gradients is {norm:.6f}, expected "
           f"{want:.6f} (just under 2.0) — clipping elementwise (clamp to ±max_norm) is clip-by-value, not by norm. "
           f"{HINT}")


def test_eps_is_used(impl):
    grads = [torch.tensor([3.0, 4.0]), torch.tensor([0.0])]  # total norm exactly 5
    for eps in (0.5, 1e-6):
        clipped, _ = call(impl, [g.clone() for g in grads], 1.0, f"clip_grad_norm([[3, 4], [0]], 1.0, eps={eps})",
                          eps=eps)
        expect_close(clipped[0], torch.tensor([3.0, 4.0]) / (5.0 + eps),
                     f"clip_grad_norm([[3, 4], [0]], 1.0, eps={eps})[0]", atol=1e-7, rtol=1e-5,
                     hint="The factor is max_norm / (total_norm + eps), with eps the argument (default 1e-6).")


def test_inputs_not_modified(impl):
    grads = draw(5, [(4, 4), (3,)], scale=3.0)
    before = [g.clone() for g in grads]
    call(impl, grads, 0.5, "clip_grad_norm(grads, 0.5)")
    for i, (g, b) in enumerate(zip(grads, before)):
        expect(torch.equal(g, b), f"clip_grad_norm modified grads[{i}] in place; multiply out of place (g * coef, "
               "not g.mul_(coef)) and return new tensors.")


@given(st.lists(st.tuples(st.integers(1, 4), st.integers(1, 4)), min_size=1, max_size=3),
       st.floats(0.05, 5.0), st.floats(0.1, 4.0), st.integers(0, 2**16))
def test_property_random_lists(impl, shapes, max_norm, scale, seed):
    grads = draw(seed, shapes, scale=scale)
    want, total = closed_form(grads, max_norm, 1e-6)
    if abs(total - max_norm) < 1e-3 * max_norm:
        return  # too close to the threshold: float32 and float64 may take different branches
    clipped, got_total = call(impl, [g.clone() for g in grads], max_norm, f"clip_grad_norm({len(grads)} tensors, {max_norm:.4g})")
    expect_scalar(got_total, total, "total_norm", atol=1e-5, rtol=1e-5, hint=HINT)
    for i, (c, w) in enumerate(zip(clipped, want)):
        expect_close(c, w, f"clip_grad_norm(..., max_norm={max_norm:.4g}): clipped[{i}]", atol=1e-6, rtol=1e-5,
                     hint=HINT)
