"""clip-grad-norm: scale every gradient by max_norm/(total_norm + eps) when the GLOBAL L2 norm exceeds max_norm."""
import torch
import torch.nn as nn
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_scalar, expect_tensor, say

HINT = say(en="total_norm = √(Σ_i ‖g_i‖²) over ALL tensors together (e.g. vector_norm of the stacked per-tensor norms); "
              "if total_norm > max_norm multiply EVERY tensor by max_norm / (total_norm + eps), else return copies.",
           zh="total_norm = √(Σ_i ‖g_i‖²)，对所有张量一起计算（例如对各张量范数堆叠后求 vector_norm）；若 "
              "total_norm > max_norm，把每个张量都乘以 max_norm / (total_norm + eps)，否则返回副本。")

SUM_OF_NORMS = say(en="the total norm taken as the SUM of the per-tensor norms Σ‖g_i‖; it is √(Σ_i ‖g_i‖²).",
                   zh="把总范数取成了各张量范数之和 Σ‖g_i‖；应为 √(Σ_i ‖g_i‖²)。")


def likely_clip_mistakes(grads, max_norm, i, eps=1e-6):
    """What the usual clipping mistakes give for clipped[i], each with its cause."""
    norms = [float(g.double().norm()) for g in grads]
    total, summed = sum(n * n for n in norms) ** 0.5, sum(norms)
    g = grads[i].double()
    pairs = (((g * max_norm / (total + eps)).float(),
             say(en="always rescaled to max_norm (normalization); below the threshold the gradients must come back "
                    "unchanged — clipping only shrinks.",
                 zh="总是缩放到 max_norm（这是归一化）；低于阈值时梯度必须原样返回——裁剪只会缩小。")),
            (g.clamp(-max_norm, max_norm).float(),
             say(en="each element clamped to ±max_norm (clip by value); rescale all tensors by max_norm / "
                    "(total_norm + eps) instead.",
                 zh="把每个元素截断到 ±max_norm（按值裁剪）；应把所有张量乘以 max_norm / (total_norm + eps)。")),
            ((g * (max_norm / (norms[i] + eps) if norms[i] > max_norm else 1.0)).float(),
             say(en="each tensor clipped by its OWN norm; use one global norm over all tensors and the same factor "
                    "for every tensor.",
                 zh="每个张量按它自己的范数裁剪；应对所有张量用同一个全局范数和同一个系数。")),
            ((g * (max_norm / (summed + eps) if summed > max_norm else 1.0)).float(), SUM_OF_NORMS))
    # Mistakes that give the same result here cannot be told apart: leave them to the check's own hint.
    return tuple((r, c) for k, (r, c) in enumerate(pairs)
                 if not any(j != k and torch.allclose(r, other, rtol=1e-5, atol=1e-7) for j, (other, _) in enumerate(pairs)))


def likely_total_mistakes(grads):
    return ((sum(float(g.double().norm()) for g in grads), SUM_OF_NORMS),)


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
           say(en=f"{what} should return a tuple (clipped, total_norm), got {type(result).__name__}",
               zh=f"{what} 应返回元组 (clipped, total_norm)，实际是 {type(result).__name__}"))
    clipped, total = result
    expect(isinstance(clipped, (list, tuple)) and len(clipped) == len(grads),
           say(en=f"{what} should return a list of {len(grads)} clipped tensors, one per input, got {clipped!r:.120}",
               zh=f"{what} 应返回包含 {len(grads)} 个裁剪后张量的列表（每个输入一个），实际是 {clipped!r:.120}"))
    for i, (c, g) in enumerate(zip(clipped, grads)):
        expect_tensor(c, f"{what}: clipped[{i}]", shape=g.shape, dtype=g.dtype)
    expect_tensor(total, f"{what}: total_norm", shape=(), dtype=torch.float32)
    return list(clipped), total


def test_matches_torch_clip_grad_norm(impl):
    for seed, max_norm in ((0, 1.0), (1, 0.5), (2, 3.0)):
        grads = draw(seed, [(3, 4), (5,), (2, 2, 2), ()], scale=2.0)
        what = f"clip_grad_norm([g0, g1, g2, g3], max_norm={max_norm})"
        want, want_total = torch_clip(grads, max_norm)  # before the call, in case it modifies its inputs
        clipped, total = call(impl, grads, max_norm, what)
        expect_scalar(total, want_total, f"{what}: total_norm", atol=1e-5, rtol=1e-5, hint=HINT,
                      likely=likely_total_mistakes(grads))
        for i, (c, w) in enumerate(zip(clipped, want)):
            expect_close(c, w, f"{what}: clipped[{i}]", atol=1e-6, rtol=1e-5, hint=HINT,
                         likely=likely_clip_mistakes(grads, max_norm, i))


def test_norm_is_global_not_per_tensor(impl):
    # One large and one small tensor: per-tensor clipping would leave the small one alone.
    big, small = torch.full((4,), 3.0), torch.tensor([0.1, -0.2])
    clipped, total = call(impl, [big.clone(), small.clone()], 1.0, "clip_grad_norm([big, small], 1.0), ‖big‖ = 6, ‖small‖ ≈ 0.22")
    expect_scalar(total, (36 + 0.05) ** 0.5, "total_norm: ‖big‖ = 6, ‖small‖ ≈ 0.22", atol=1e-5, rtol=1e-5,
                  hint=say(en="The total norm is √(Σ_i ‖g_i‖²) — the norm of all gradients concatenated, "
                              "not the sum (or max) of the per-tensor norms.",
                           zh="总范数是 √(Σ_i ‖g_i‖²)——所有梯度拼接起来的范数，不是各张量范数之和（或最大值）。"),
                  likely=likely_total_mistakes([big, small]))
    coef = 1.0 / ((36.05 ** 0.5) + 1e-6)
    expect_close(clipped[1], small * coef,
                 say(en="the small tensor after clipping [big, small] to 1.0", zh="把 [big, small] 裁剪到 1.0 后的小张量"),
                 atol=1e-7, rtol=1e-5,
                 hint=say(en="Every tensor is scaled by the SAME factor max_norm / (total_norm + eps), also the small "
                             "one — clipping each tensor by its own norm changes the direction of the update.",
                          zh="每个张量都乘以同一个系数 max_norm / (total_norm + eps)，小张量也不例外——按各自的范数裁剪"
                             "会改变更新的方向。"),
                 likely=likely_clip_mistakes([big, small], 1.0, 1))
    expect_close(clipped[0], big * coef,
                 say(en="the big tensor after clipping [big, small] to 1.0", zh="把 [big, small] 裁剪到 1.0 后的大张量"),
                 atol=1e-7, rtol=1e-5, hint=HINT, likely=likely_clip_mistakes([big, small], 1.0, 0))


def test_below_the_threshold_nothing_changes(impl):
    grads = draw(3, [(3, 3), (4,)], scale=0.1)  # total norm ≈ 0.35
    want_total = closed_form(grads, 5.0, 1e-6)[1]
    clipped, total = call(impl, grads, 5.0, "clip_grad_norm(grads: norm ≈ 0.35, max_norm=5.0)")
    expect_scalar(total, want_total, say(en="total_norm below the threshold", zh="低于阈值时的 total_norm"),
                  atol=1e-6, rtol=1e-5,
                  hint=say(en="Return the true total norm also when no clipping happens.",
                           zh="即使没有裁剪，也要返回真实的总范数。"),
                  likely=likely_total_mistakes(grads))
    for i, (c, g) in enumerate(zip(clipped, grads)):
        expect_close(c, g, say(en=f"clipped[{i}] when the total norm 0.35 is below max_norm 5",
                               zh=f"总范数 0.35 低于 max_norm 5 时的 clipped[{i}]"), atol=0.0, rtol=1e-6,
                     hint=say(en="Clipping only ever shrinks: below the threshold the gradients come back unchanged "
                                 "(do not rescale them up to max_norm — that is normalization, not clipping).",
                              zh="裁剪只会缩小：低于阈值时梯度原样返回（不要把它们放大到 max_norm——那是归一化，"
                                 "不是裁剪）。"),
                     likely=likely_clip_mistakes(grads, 5.0, i))
        c.add_(1.0)
        expect(not torch.equal(c, g),
               say(en="clip_grad_norm returned its input tensor itself below the threshold; return new tensors "
                      "(g.clone()) so the caller can modify them safely.",
                   zh="低于阈值时 clip_grad_norm 直接返回了输入张量本身；应返回新张量（g.clone()），让调用方可以"
                      "安全地修改它们。"))


def test_clipped_norm_equals_max_norm(impl):
    grads = draw(4, [(6,), (2, 3)], scale=5.0)
    clipped, total = call(impl, [g.clone() for g in grads], 2.0, "clip_grad_norm(grads, 2.0)")
    norm = sum(float((c.double() ** 2).sum()) for c in clipped) ** 0.5
    want = 2.0 * float(total) / (float(total) + 1e-6)
    cause = HINT
    per_tensor = [likely_clip_mistakes(grads, 2.0, i) for i in range(len(grads))]
    for _, mistake in per_tensor[0]:  # a mistake that explains every clipped tensor
        if all(any(m.en == mistake.en and torch.allclose(c, r, rtol=1e-5, atol=1e-6) for r, m in pairs)
               for c, pairs in zip(clipped, per_tensor)):
            cause = say(en=f"Your result is exactly what a known mistake gives: {mistake.en}",
                        zh=f"你的结果与一个常见错误的结果完全一致：{mistake.zh}")
            break
    expect(abs(norm - want) < 1e-5,
           say(en=f"after clip_grad_norm(grads, 2.0) the global norm of the clipped gradients is {norm:.6f}, expected "
                  f"{want:.6f} (just under 2.0): every tensor must be scaled by max_norm / (total_norm + eps). "
                  f"{cause.en}",
               zh=f"clip_grad_norm(grads, 2.0) 之后裁剪后梯度的全局范数是 {norm:.6f}，应为 {want:.6f}（略小于 2.0）："
                  f"每个张量都必须乘以 max_norm / (total_norm + eps)。{cause.zh}"))


def test_eps_is_used(impl):
    grads = [torch.tensor([3.0, 4.0]), torch.tensor([0.0])]  # total norm exactly 5
    for eps in (0.5, 1e-6):
        clipped, _ = call(impl, [g.clone() for g in grads], 1.0, f"clip_grad_norm([[3, 4], [0]], 1.0, eps={eps})",
                          eps=eps)
        expect_close(clipped[0], torch.tensor([3.0, 4.0]) / (5.0 + eps),
                     f"clip_grad_norm([[3, 4], [0]], 1.0, eps={eps})[0]", atol=1e-7, rtol=1e-5,
                     hint=say(en="The factor is max_norm / (total_norm + eps), with eps the argument (default 1e-6).",
                              zh="系数是 max_norm / (total_norm + eps)，eps 用传入的参数（默认 1e-6）。"))


def test_inputs_not_modified(impl):
    grads = draw(5, [(4, 4), (3,)], scale=3.0)
    before = [g.clone() for g in grads]
    call(impl, grads, 0.5, "clip_grad_norm(grads, 0.5)")
    for i, (g, b) in enumerate(zip(grads, before)):
        expect(torch.equal(g, b), say(en=f"clip_grad_norm modified grads[{i}] in place; multiply out of place "
                                         "(g * coef, not g.mul_(coef)) and return new tensors.",
                                      zh=f"clip_grad_norm 原地修改了 grads[{i}]；要用非原地乘法（g * coef，而不是 "
                                         "g.mul_(coef)）并返回新张量。"))


@given(st.lists(st.tuples(st.integers(1, 4), st.integers(1, 4)), min_size=1, max_size=3),
       st.floats(0.05, 5.0), st.floats(0.1, 4.0), st.integers(0, 2**16))
def test_property_random_lists(impl, shapes, max_norm, scale, seed):
    grads = draw(seed, shapes, scale=scale)
    want, total = closed_form(grads, max_norm, 1e-6)
    if abs(total - max_norm) < 1e-3 * max_norm:
        return  # too close to the threshold: float32 and float64 may take different branches
    clipped, got_total = call(impl, [g.clone() for g in grads], max_norm, f"clip_grad_norm([g0..g{len(grads) - 1}], {max_norm:.4g})")
    expect_scalar(got_total, total, "total_norm", atol=1e-5, rtol=1e-5, hint=HINT, likely=likely_total_mistakes(grads))
    for i, (c, w) in enumerate(zip(clipped, want)):
        expect_close(c, w, f"clip_grad_norm(..., max_norm={max_norm:.4g}): clipped[{i}]", atol=1e-6, rtol=1e-5,
                     hint=HINT, likely=likely_clip_mistakes(grads, max_norm, i))
