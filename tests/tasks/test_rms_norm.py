"""rms-norm: x / √(mean(x², dim=-1) + eps) · weight over the last dim, against F.rms_norm (float64)."""
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor, say

FORMULA = "rms_norm(x, weight, eps) = x / √(mean(x², dim=-1) + eps) · weight"
LAST_DIM = say(en=f"{FORMULA}, over the LAST dim with keepdim=True.", zh=f"{FORMULA}，在最后一维上计算（keepdim=True）。")


def oracle(x, weight, eps=1e-6):
    """torch's own RMSNorm in float64; eps passed explicitly (F.rms_norm's default eps is not 1e-6)."""
    return F.rms_norm(x.double(), (x.size(-1),), weight.double(), eps).float()


def call(impl, x, weight, eps=None):
    return impl.rms_norm(x, weight) if eps is None else impl.rms_norm(x, weight, eps)


def test_matches_pytorch_rms_norm(impl):
    g = torch.Generator().manual_seed(0)
    x = 2 * torch.randn(2, 5, 8, generator=g)
    weight = torch.randn(8, generator=g)
    got = call(impl, x, weight)
    expect_tensor(got, "rms_norm(x (2, 5, 8), weight (8,))", shape=(2, 5, 8), dtype=torch.float32)
    expect_close(got, oracle(x, weight), say(en="rms_norm(x (2, 5, 8), weight (8,)) vs F.rms_norm(..., eps=1e-6)",
                                             zh="rms_norm(x (2, 5, 8), weight (8,)) 与 F.rms_norm(..., eps=1e-6) 的对比"),
                 atol=1e-5, rtol=1e-4, hint=LAST_DIM, likely=likely_rms_mistakes(x, weight, default_eps=True))


def likely_rms_mistakes(x, weight, eps=1e-6, default_eps=False):
    """What the usual mistakes give on x (closed forms in float64), each with its cause (expect_close(likely=...))."""
    xd, wd = x.double(), weight.double()
    centred = xd - xd.mean(-1, keepdim=True)
    ms = xd.pow(2).mean(-1, keepdim=True)
    out = [(xd / (xd.pow(2).sum(-1, keepdim=True) + eps).sqrt() * wd,
            say(en="the SUM of squares (a row norm) instead of their mean; use x.pow(2).mean(-1, keepdim=True).",
                zh="用了平方和（行的范数）而不是平方的均值；应使用 x.pow(2).mean(-1, keepdim=True)。")),
           (centred / (centred.pow(2).mean(-1, keepdim=True) + eps).sqrt() * wd,
            say(en="the mean is subtracted first (that is LayerNorm); RMSNorm divides x itself by its RMS.",
                zh="先减去了均值（那是 LayerNorm）；RMSNorm 直接用 x 除以它自己的均方根。")),
           (xd / (ms.sqrt() + eps) * wd,
            say(en="eps outside the square root, x / (√mean(x²) + eps); put it inside: x / √(mean(x²) + eps).",
                zh="eps 放在了平方根外面，x / (√mean(x²) + eps)；应放在里面：x / √(mean(x²) + eps)。"))]
    if x.dim() > 1:
        out.append((xd / (xd.pow(2).mean(0, keepdim=True) + eps).sqrt() * wd,
                    say(en="the mean of squares over dim 0 (the batch); take it over the last dim, dim=-1.",
                        zh="在第 0 维（batch 维）上求了平方的均值；应在最后一维 dim=-1 上求。")))
    if default_eps:
        out.append((xd / (ms + 1e-5).sqrt() * wd,
                    say(en="a default eps of 1e-5 (LayerNorm's); the task's default is eps=1e-6.",
                        zh="默认 eps 用了 1e-5（LayerNorm 的默认值）；本题默认 eps=1e-6。")))
    return tuple((v.float(), c) for v, c in out)


def test_mean_of_squares_not_sum(impl):
    # Rows of length 16: dividing by √(sum) instead of √(mean) shrinks the output by exactly 4.
    g = torch.Generator().manual_seed(1)
    x = torch.randn(3, 16, generator=g)
    got = call(impl, x, torch.ones(16))
    expect_close(got, oracle(x, torch.ones(16)), "rms_norm(x (3, 16), ones)", atol=1e-5,
                 hint=say(en="Use the MEAN of the squares, x.pow(2).mean(-1, keepdim=True), not the sum: with d = 16 the "
                             "sum makes the output 4 times too small.",
                          zh="要用平方的均值 x.pow(2).mean(-1, keepdim=True)，不是平方和：d = 16 时用和会让输出小 4 倍。"),
                 likely=likely_rms_mistakes(x, torch.ones(16), default_eps=True))
    rms = got.double().pow(2).mean(-1).sqrt()
    expect(bool(((rms - 1).abs() < 1e-4).all()),
           say(en=f"with weight 1 every output row must have root mean square 1; got {rms.tolist()} — divide by the "
                  "root of the MEAN of squares (a row norm ‖x‖ would give 1/√d).",
               zh=f"weight 为 1 时每个输出行的均方根都必须是 1；实际是 {rms.tolist()}——要除以平方均值的平方根"
                  "（除以行范数 ‖x‖ 会得到 1/√d）。"))


def test_eps_goes_inside_the_square_root(impl):
    # Rows with mean(x²) ~ 1e-4 and eps = 1e-2: eps dominates, and √(ms + eps) differs from √ms + eps.
    g = torch.Generator().manual_seed(2)
    x = 1e-2 * torch.randn(4, 6, generator=g)
    weight = torch.randn(6, generator=g)
    for eps in (1e-2, 1e-3):
        expect_close(call(impl, x, weight, eps), oracle(x, weight, eps),
                     say(en=f"rms_norm on rows with RMS ~0.01, eps={eps}", zh=f"各行 RMS 约 0.01、eps={eps} 时的 rms_norm"),
                     atol=1e-5, rtol=1e-4,
                     hint=say(en="eps goes INSIDE the square root: x / √(mean(x²) + eps), not x / (√mean(x²) + eps); "
                                 "and use the eps argument, not a hard-coded constant.",
                              zh="eps 要放在平方根里面：x / √(mean(x²) + eps)，而不是 x / (√mean(x²) + eps)；"
                                 "并且要用参数 eps，不要写死常数。"),
                     likely=likely_rms_mistakes(x, weight, eps))


def test_default_eps_is_1e_minus_6(impl):
    # With mean(x²) = 1e-6 the default eps doubles the denominator: 1e-5 or 1e-8 would show.
    x = torch.full((2, 4), 1e-3)
    x[1] = torch.tensor([1e-3, -1e-3, 1e-3, -1e-3])
    got = impl.rms_norm(x, torch.ones(4))
    expect_close(got, oracle(x, torch.ones(4), 1e-6),
                 say(en="rms_norm(x, ones) with the default eps on rows with mean(x²) = 1e-6",
                     zh="各行 mean(x²) = 1e-6 时使用默认 eps 的 rms_norm(x, ones)"), atol=1e-5, rtol=1e-4,
                 hint=say(en="The default is eps=1e-6 (the task's contract), not LayerNorm's 1e-5 and not F.rms_norm's "
                             "machine epsilon.",
                          zh="默认是 eps=1e-6（本题的约定），不是 LayerNorm 的 1e-5，也不是 F.rms_norm 的机器精度。"),
                 likely=likely_rms_mistakes(x, torch.ones(4), default_eps=True))


def test_no_mean_subtraction_differs_from_layer_norm(impl):
    # Rows far from zero mean: LayerNorm centres them, RMSNorm must not.
    g = torch.Generator().manual_seed(3)
    x = torch.randn(3, 8, generator=g) + 5.0
    got = call(impl, x, torch.ones(8))
    expect_close(got, oracle(x, torch.ones(8)), say(en="rms_norm on rows with mean ≈ 5 (shifted inputs)",
                                                    zh="各行均值约为 5（平移过的输入）时的 rms_norm"), atol=1e-5,
                 hint=say(en="RMSNorm does NOT subtract the mean (that is LayerNorm): divide x itself by its root mean "
                             "square.",
                          zh="RMSNorm 不减均值（那是 LayerNorm）：直接用 x 除以它自己的均方根。"),
                 likely=likely_rms_mistakes(x, torch.ones(8)))
    expect(bool((got > 0).all()),
           say(en="rms_norm of rows whose entries are all positive must stay all positive (it only rescales); "
                  f"got negative entries {got[got <= 0][:4].tolist()} — are you subtracting the mean?",
               zh="元素全为正的行经过 rms_norm 后必须仍全为正（它只做缩放）；"
                  f"却得到了负值 {got[got <= 0][:4].tolist()}——是不是减去了均值？"))


def test_weight_multiplies_each_feature(impl):
    g = torch.Generator().manual_seed(4)
    x = torch.randn(5, 6, generator=g)
    weight = torch.tensor([0.5, -1.0, 2.0, 0.0, 3.0, -0.25])
    expect_close(call(impl, x, weight), oracle(x, weight),
                 say(en="rms_norm(x (5, 6), weight with mixed signs)", zh="rms_norm(x (5, 6), 正负混合的 weight)"),
                 atol=1e-5, hint=say(en="Multiply the normalized x elementwise by weight (shape (d,), broadcast over the "
                                        "last dim); there is no bias and weight is not inside the root.",
                                     zh="把归一化后的 x 与 weight（形状 (d,)，在最后一维上广播）逐元素相乘；"
                                        "没有偏置，weight 也不在平方根里。"),
                 likely=likely_rms_mistakes(x, weight))


def test_scale_invariance(impl):
    # Where mean(x²) ≫ eps, rms_norm(c·x) = rms_norm(x) for any c > 0.
    g = torch.Generator().manual_seed(5)
    x = torch.randn(4, 10, generator=g)
    weight = torch.randn(10, generator=g)
    base = call(impl, x, weight)
    for c in (0.5, 30.0, 1e3):
        expect_close(call(impl, c * x, weight), base,
                     say(en=f"rms_norm({c:g}·x) vs rms_norm(x)", zh=f"rms_norm({c:g}·x) 与 rms_norm(x) 的对比"),
                     atol=1e-4, rtol=1e-4,
                     hint=say(en="RMSNorm is invariant to rescaling its input (when mean(x²) ≫ eps); a result that "
                                 "changes with the scale means you are not dividing by the root mean square.",
                              zh="RMSNorm 对输入的缩放不变（当 mean(x²) ≫ eps 时）；结果随缩放而变，说明没有除以均方根。"))


def test_deterministic_and_inputs_unchanged(impl):
    g = torch.Generator().manual_seed(6)
    x, weight = torch.randn(2, 3, 4, generator=g), torch.randn(4, generator=g)
    before = (x.clone(), weight.clone())
    expect_deterministic(impl.rms_norm, x, weight, what="rms_norm(x (2, 3, 4), weight)")
    call(impl, x, weight)
    expect(torch.equal(before[0], x) and torch.equal(before[1], weight),
           say(en="rms_norm modified x or weight in place; use out-of-place ops (x * r, not x.mul_(r)).",
               zh="rms_norm 原地修改了 x 或 weight；要用非原地运算（x * r，而不是 x.mul_(r)）。"))


@given(st.lists(st.integers(1, 4), min_size=0, max_size=2), st.integers(1, 6), st.integers(0, 2**16))
def test_property_any_shape(impl, batch, d, seed):
    g = torch.Generator().manual_seed(seed)
    x = 2 * torch.randn(*batch, d, generator=g)
    weight = torch.randn(d, generator=g)
    expect_close(call(impl, x, weight), oracle(x, weight),
                 say(en=f"rms_norm on x of shape {tuple(x.shape)}", zh=f"形状为 {tuple(x.shape)} 的 x 上的 rms_norm"),
                 atol=1e-4, rtol=1e-3, hint=say(en=f"{FORMULA}, over the last dim only.", zh=f"{FORMULA}，只在最后一维上计算。"),
                 likely=likely_rms_mistakes(x, weight, default_eps=True))
