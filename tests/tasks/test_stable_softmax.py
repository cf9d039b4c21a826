"""stable-softmax: softmax(x, dim=-1), checked against torch.softmax."""
import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor, expect_unchanged, say

HINT = say(en="Subtract the max along `dim` before exponentiating, and normalize along `dim` only.",
           zh="先沿 `dim` 减去最大值再取指数，并且只沿 `dim` 归一化。")


def likely_dim_mistakes(x, dim):
    """What the usual mistakes about `dim` give on x, each with its cause (expect_close(likely=...))."""
    e = (x.double() - x.double().amax(dim=dim, keepdim=True)).exp()
    return ((torch.softmax(x.double(), dim=-1).to(x.dtype),
             say(en="normalizing over the last dimension whatever `dim` says; use `dim` for the max and the sum.",
                 zh="不管 `dim` 是多少都在最后一维上归一化；求最大值和求和都要沿 `dim`。")),
            ((e / e.sum()).to(x.dtype),
             say(en="dividing by the sum of the whole tensor; sum along `dim` with keepdim=True so each slice sums to 1.",
                 zh="除以整个张量的和；应沿 `dim` 求和（keepdim=True），让每个切片各自和为 1。")))


def rtol_for(x):
    """Relative tolerance that any correct implementation meets in x's dtype.

    A value v of magnitude M is stored with a rounding error of up to eps·M/2, so the log-probabilities
    x_i − logsumexp(x) of a correct float32 implementation (max-shift or `exp(x - logsumexp(x))`) carry an
    absolute error of order eps·max|x|, i.e. a relative error of the probabilities of that size: 4e-4 at
    |x| = 1e4. Measured worst case over many inputs: 0.5·eps·max|x|; we allow 2·eps·max|x| on top of 1e-5.
    """
    return 1e-5 + 2 * torch.finfo(x.dtype).eps * x.abs().max().item()


@st.composite
def shaped_input(draw):
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    scale = draw(st.sampled_from([1.0, 10.0, 100.0]))
    seed = draw(st.integers(0, 2**16))
    x = torch.randn(shape, generator=torch.Generator().manual_seed(seed)) * scale
    return x, dim


@given(shaped_input())
def test_matches_torch_softmax_on_any_shape_and_dim(impl, case):
    x, dim = case
    expected = torch.softmax(x.double(), dim=dim).float()
    expect_close(impl.softmax(x.clone(), dim=dim), expected,
                 say(en=f"softmax(x of shape {tuple(x.shape)}, dim={dim})", zh=f"softmax(形状为 {tuple(x.shape)} 的 x, dim={dim})"),
                 atol=1e-6, rtol=rtol_for(x), hint=HINT, likely=likely_dim_mistakes(x, dim))


def test_default_dim_is_the_last_one(impl):
    x = torch.randn(3, 4)
    out = expect_deterministic(impl.softmax, x, what="softmax(x)")
    expect_close(out, torch.softmax(x.double(), dim=-1).float(), say(en="softmax(x) with the default dim",
                                                                       zh="使用默认 dim 的 softmax(x)"),
                 atol=1e-6, hint=say(en="The default is dim=-1: each row sums to 1.",
                                     zh="默认 dim=-1：每一行的和为 1。"),
                 likely=((torch.softmax(x.double(), dim=0).float(),
                          say(en="a softmax over dim=0 (the columns); the default is dim=-1.",
                              zh="在 dim=0（按列）上做 softmax；默认应是 dim=-1。")),))


def test_large_inputs_stay_finite_and_correct(impl):
    x = torch.tensor([[1e4, 0.0, -1e4], [-1e4, -1e4 + 1.0, -1e4 + 2.0], [5e3, 5e3, 5e3]])
    out = impl.softmax(x, dim=-1)
    what = say(en="softmax(x) with entries of magnitude 1e4", zh="元素量级为 1e4 的 softmax(x)")
    expect_tensor(out, what, shape=(3, 3), dtype=torch.float32)
    expect(bool(torch.isfinite(out).all()),
           say(en=f"softmax(x) with entries of magnitude 1e4 returned NaN or inf: {out.tolist()} — exp(1e4) overflows "
                  "in float32; subtract the row max first (it changes nothing mathematically).",
               zh=f"元素量级为 1e4 时 softmax(x) 返回了 NaN 或 inf：{out.tolist()}——exp(1e4) 在 float32 下溢出；"
                  "先减去每行的最大值（数学上结果不变）。"))
    expect_close(out, torch.softmax(x.double(), dim=-1).float(), what, atol=1e-6, rtol=rtol_for(x),
                 hint=say(en="Subtract each row's own max (along `dim`, keepdim=True) before exp, then divide by the "
                             "row sum.",
                          zh="取指数前先减去每行自己的最大值（沿 `dim`，keepdim=True），再除以该行的和。"))


def test_rows_with_very_different_scales(impl):
    # A single global max would send the second row to exp(-1e4) = 0 everywhere: 0/0.
    x = torch.tensor([[1e4, 1e4 - 1.0], [0.0, 1.0]])
    expect_close(impl.softmax(x, dim=-1), torch.softmax(x.double(), dim=-1).float(),
                 say(en="softmax of rows with very different magnitudes", zh="各行量级相差很大时的 softmax"),
                 atol=1e-6, rtol=rtol_for(x),
                 hint=say(en="Take the max per row (along `dim`, keepdim=True), not over the whole tensor: a row far "
                             "below the global max underflows to 0/0.",
                          zh="最大值要逐行取（沿 `dim`，keepdim=True），不能对整个张量取：远低于全局最大值的那一行"
                             "会下溢成 0/0。"))


@given(st.floats(-1e3, 1e3), st.integers(0, 2**16))
def test_invariant_to_adding_a_constant(impl, c, seed):
    x = torch.randn(4, 6, generator=torch.Generator().manual_seed(seed))
    shifted = x + c  # rounded to float32: its exact softmax differs from softmax(x) by up to eps·|c| (relative)
    out = impl.softmax(shifted, dim=-1)
    expect_close(out, torch.softmax(shifted.double(), dim=-1).float(), f"softmax(x + {c:.3g})", atol=1e-6,
                 rtol=rtol_for(shifted), hint=HINT)
    expect_close(out, impl.softmax(x, dim=-1).detach(),
                 say(en=f"softmax(x + {c:.3g}) vs softmax(x)", zh=f"softmax(x + {c:.3g}) 与 softmax(x) 的比较"),
                 atol=1e-6, rtol=2 * rtol_for(shifted),
                 hint=say(en="softmax(x + c) must equal softmax(x); a naive exp overflows or loses precision — "
                             "subtract the max first.",
                          zh="softmax(x + c) 必须等于 softmax(x)；直接取 exp 会溢出或丢失精度——先减去最大值。"))


def test_logsumexp_form_is_as_accurate_as_float32_allows(impl):
    # Rows far from 0 (|x| up to 5e4) with O(1) spreads: the probabilities are well spread, and any correct float32
    # form — x − max then exp and normalize, or exp(x − logsumexp(x)) — lands within ~eps·max|x| of the truth.
    g = torch.Generator().manual_seed(3)
    offsets = torch.tensor([[1e4], [-1e4], [5e4], [-3e4], [2.5e3]])
    x = offsets + 2 * torch.randn(5, 7, generator=g)
    out = impl.softmax(x, dim=-1)
    what = say(en="softmax(x) for rows offset by up to 5e4", zh="各行偏移达 5e4 时的 softmax(x)")
    expect_tensor(out, what, shape=(5, 7), dtype=torch.float32)
    expect(bool(torch.isfinite(out).all()),
           say(en="softmax(x) for rows offset by up to 5e4 returned NaN or inf — rows at -1e4 and -3e4 lie far below "
                  "the largest entry of the tensor: take the max of each row (along `dim`, keepdim=True), not one "
                  "max for the whole tensor, and never exp(x) unshifted.",
               zh="各行偏移达 5e4 时 softmax(x) 返回了 NaN 或 inf——偏移为 -1e4、-3e4 的行远低于整个张量的最大值："
                  "要逐行取最大值（沿 `dim`，keepdim=True），不能对整个张量只取一个最大值，也不能不减最大值直接 exp(x)。"))
    expect_close(out, torch.softmax(x.double(), dim=-1).float(), what, atol=1e-6, rtol=rtol_for(x),
                 hint=say(en="Beyond float32's own rounding of a number of size |x| (relative error ~1e-7·|x|), the "
                             "result must be exact: shift by the row max (or subtract logsumexp along `dim`) and "
                             "normalize along `dim` — no float16/bfloat16 arithmetic, no approximations of exp.",
                          zh="除了 float32 表示 |x| 大小的数本身的舍入误差（相对误差约 1e-7·|x|）之外，结果必须精确："
                             "减去每行最大值（或沿 `dim` 减去 logsumexp）并沿 `dim` 归一化——不要用 float16/bfloat16 "
                             "计算，也不要近似 exp。"))


def test_keeps_dtype_and_does_not_modify_the_input(impl):
    x = torch.randn(2, 3, 5, dtype=torch.float64)
    before = x.clone()
    out = impl.softmax(x, dim=1)
    expect_close(out, torch.softmax(before, dim=1), "softmax(float64 x, dim=1)", atol=1e-12, rtol=1e-10,
                 hint=say(en="Compute in the input's dtype (float64 here): no .float() on the way.",
                          zh="按输入的 dtype 计算（这里是 float64）：中间不要调用 .float()。"),
                 likely=likely_dim_mistakes(x, 1))
    expect_unchanged(before, x, say(en="the input x", zh="输入 x"))
