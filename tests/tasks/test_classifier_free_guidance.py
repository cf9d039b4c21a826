"""classifier-free-guidance: ε = ε_u + scale·(ε_c − ε_u) from ONE model call on the doubled batch [uncond; cond].

Oracle: the same toy denoiser evaluated in float64 on the unconditional and the conditional inputs separately.
The denoiser records every call, so the tests also see how it was called.
"""
import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_tensor, say

HINT = say(en="Build ONE batch of 2B: x = cat([x_t, x_t]), t = cat([t, t]), c = cat([null_cond, cond]) on dim 0; call "
              "model once; ε_u = out[:B] (unconditional, first), ε_c = out[B:]; return ε_u + scale·(ε_c − ε_u).",
           zh="构造一个大小为 2B 的 batch：在 dim 0 上 x = cat([x_t, x_t])，t = cat([t, t])，c = cat([null_cond, cond])；"
              "只调用一次 model；ε_u = out[:B]（无条件，在前），ε_c = out[B:]；返回 ε_u + scale·(ε_c − ε_u)。")


class Denoiser:
    """A toy ε-model: tanh(x·W + c·U + t·a), per example; records its calls.

    The weights keep the pre-activation O(1) for t up to 1000 (t·a with a ~ N(0, 1e-6)), so that tanh does not
    saturate and ε_c differs visibly from ε_u: a swap of the halves must change the result.
    """

    def __init__(self, seed, d, e):
        g = torch.Generator().manual_seed(seed)
        self.W = torch.randn(d, d, generator=g) / (2 * d ** 0.5)
        self.U = torch.randn(e, d, generator=g) / e ** 0.5
        self.a = torch.randn(d, generator=g) / 1000
        self.calls = []

    def pure(self, x, t, c):
        """float64, no recording: the oracle."""
        flat = x.reshape(x.shape[0], -1).double()
        out = torch.tanh(flat @ self.W.double() + c.reshape(c.shape[0], -1).double() @ self.U.double()
                         + t.double()[:, None] * self.a.double())
        return out.reshape(x.shape)

    def __call__(self, x, t, c):
        self.calls.append((x.detach().clone(), t.detach().clone(), c.detach().clone()))
        if not (t.dim() == 1 and x.shape[0] == t.shape[0] == c.shape[0]):
            expect(False, say(en=f"model(x, t, c) was called with x {tuple(x.shape)}, t {tuple(t.shape)}, "
                                 f"c {tuple(c.shape)}: all three need the same batch size (2B), t of shape (2B,). "
                                 "Double t as well: torch.cat([t, t]).",
                              zh=f"调用 model(x, t, c) 时 x 为 {tuple(x.shape)}，t 为 {tuple(t.shape)}，c 为 "
                                 f"{tuple(c.shape)}：三者的 batch 大小必须相同（2B），t 的形状为 (2B,)。t 也要加倍："
                                 "torch.cat([t, t])。"))
        return self.pure(x, t, c).float()


def setup(seed=0, B=3, shape=(2, 2), e=5):
    g = torch.Generator().manual_seed(100 + seed)
    d = 1
    for s in shape:
        d *= s
    model = Denoiser(seed, d, e)
    x_t = torch.randn(B, *shape, generator=g)
    t = torch.rand(B, generator=g) * 900 + 50  # distinct per example
    cond, null = torch.randn(B, e, generator=g), torch.zeros(B, e)
    return model, x_t, t, cond, null


def oracle(model, x_t, t, cond, null, scale):
    eps_u, eps_c = model.pure(x_t, t, null), model.pure(x_t, t, cond)
    return (eps_u + scale * (eps_c - eps_u)).float(), eps_u.float(), eps_c.float()


def likely_cfg_mistakes(model, x_t, t, cond, null, scale):
    """What the usual CFG mistakes give, each with its cause."""
    _, eps_u, eps_c = oracle(model, x_t, t, cond, null, scale)
    B = x_t.shape[0]
    mixed = model.pure(x_t.repeat_interleave(2, dim=0), t.repeat_interleave(2, dim=0),
                       torch.stack([null, cond], dim=1).flatten(0, 1)).float()
    interleaved = (mixed[:B] + scale * (mixed[B:] - mixed[:B]),
                   say(en="the batch doubled with repeat_interleave (x0, x0, x1, x1, …) but split into halves, which "
                          "mixes examples and conditions; use torch.cat([x_t, x_t]) so that out[:B] and out[B:] line up.",
                       zh="用 repeat_interleave 加倍 batch（x0, x0, x1, x1, …）却按前后两半拆分，样本和条件混在了一起；"
                          "应使用 torch.cat([x_t, x_t])，让 out[:B] 与 out[B:] 对齐。"))
    if scale == 0:  # both usual mistakes give ε_c here
        return (interleaved, (eps_c, say(en="ε_c at scale = 0: either the halves are swapped (ε_u must be out[:B], with null_cond "
                               "FIRST) or you used the convention ε_c + scale·(ε_c − ε_u); scale = 0 must give ε_u.",
                            zh="scale = 0 时得到了 ε_c：要么两半弄反了（null_cond 在前，ε_u 应是 out[:B]），要么用了 "
                               "ε_c + scale·(ε_c − ε_u) 这种约定；scale = 0 必须得到 ε_u。")),)
    return ((eps_c + scale * (eps_u - eps_c),
             say(en="the halves swapped: ε_u taken from the conditional half. Put null_cond FIRST and read ε_u = "
                    "out[:B], ε_c = out[B:].",
                 zh="两半弄反了：ε_u 取自有条件的那一半。应把 null_cond 放在前面，并取 ε_u = out[:B]、ε_c = out[B:]。")),
            (eps_c + scale * (eps_c - eps_u),
             say(en="the other convention ε_c + scale·(ε_c − ε_u); here the guidance is ε_u + scale·(ε_c − ε_u), so "
                    "scale = 1 gives ε_c and scale = 0 gives ε_u.",
                 zh="用了另一种约定 ε_c + scale·(ε_c − ε_u)；这里的引导是 ε_u + scale·(ε_c − ε_u)，所以 scale = 1 "
                    "得到 ε_c，scale = 0 得到 ε_u。")),
            interleaved)


def test_matches_separate_evaluations_for_several_scales(impl):
    model, x_t, t, cond, null = setup()
    for scale in (0.0, 1.0, 2.0, 7.5):
        what = f"cfg_eps(model, x_t (3, 2, 2), t, cond, null_cond, scale={scale})"
        got = impl.cfg_eps(model, x_t, t, cond, null, scale)
        expect_tensor(got, what, shape=(3, 2, 2), dtype=torch.float32)
        expect_close(got, oracle(model, x_t, t, cond, null, scale)[0], what, atol=1e-5, rtol=1e-4, hint=HINT,
                     likely=likely_cfg_mistakes(model, x_t, t, cond, null, scale))


def test_scale_zero_is_unconditional_and_scale_one_conditional(impl):
    model, x_t, t, cond, null = setup(1)
    _, eps_u, eps_c = oracle(model, x_t, t, cond, null, 0.0)
    expect_close(impl.cfg_eps(model, x_t, t, cond, null, 0.0), eps_u, "cfg_eps(scale=0)", atol=1e-5,
                 hint=say(en="scale = 0 must give the UNCONDITIONAL prediction ε_u. If you got ε_c, the halves are "
                             "swapped (null_cond goes in the FIRST half of the batch and ε_u is out[:B]) or you used "
                             "the convention ε_c + scale·(ε_c − ε_u).",
                          zh="scale = 0 必须得到无条件预测 ε_u。如果得到的是 ε_c，说明两半弄反了（null_cond 应放在"
                             " batch 的前一半，ε_u 是 out[:B]），或者用了 ε_c + scale·(ε_c − ε_u) 这种约定。"),
                 likely=likely_cfg_mistakes(model, x_t, t, cond, null, 0.0))
    expect_close(impl.cfg_eps(model, x_t, t, cond, null, 1.0), eps_c, "cfg_eps(scale=1)", atol=1e-5,
                 hint=say(en="scale = 1 means no guidance: exactly the conditional prediction ε_c. If you got "
                             "2ε_c − ε_u you used the other convention ε_c + w·(ε_c − ε_u); here w = scale − 1.",
                          zh="scale = 1 表示没有引导：结果恰好是有条件预测 ε_c。如果得到 2ε_c − ε_u，说明用了另一种约定 "
                             "ε_c + w·(ε_c − ε_u)；这里 w = scale − 1。"),
                 likely=likely_cfg_mistakes(model, x_t, t, cond, null, 1.0))


def test_extrapolates_linearly_beyond_one(impl):
    model, x_t, t, cond, null = setup(2)
    _, eps_u, eps_c = oracle(model, x_t, t, cond, null, 0.0)
    for scale in (1.5, 4.0):
        expect_close(impl.cfg_eps(model, x_t, t, cond, null, scale), eps_c + (scale - 1) * (eps_c - eps_u),
                     f"cfg_eps(scale={scale})", atol=2e-5, rtol=1e-4,
                     hint=say(en="Guidance extrapolates along ε_c − ε_u past ε_c: ε = ε_c + (scale − 1)(ε_c − ε_u), "
                                 "linear in scale; do not normalize or clamp the result.",
                              zh="引导沿 ε_c − ε_u 方向越过 ε_c 外推：ε = ε_c + (scale − 1)(ε_c − ε_u)，对 scale 是线性的；"
                                 "不要对结果做归一化或截断。"),
                     likely=likely_cfg_mistakes(model, x_t, t, cond, null, scale))


def test_model_called_once_on_the_doubled_batch(impl):
    model, x_t, t, cond, null = setup(3, B=4)
    null = torch.randn(4, 5, generator=torch.Generator().manual_seed(9))  # a learned null embedding, not zeros
    impl.cfg_eps(model, x_t, t, cond, null, 3.0)
    expect(len(model.calls) == 1,
           say(en=f"cfg_eps called the model {len(model.calls)} times; call it exactly ONCE on the doubled batch of 2B "
                  "(one forward pass instead of two is the point of batching CFG).",
               zh=f"cfg_eps 调用了 model {len(model.calls)} 次；应在加倍后大小为 2B 的 batch 上恰好调用一次"
                  "（把 CFG 合成一个 batch 的意义就在于只做一次前向而不是两次）。"))
    x, tt, c = model.calls[0]
    expect(tuple(x.shape) == (8, 2, 2) and tuple(tt.shape) == (8,) and tuple(c.shape) == (8, 5),
           say(en=f"the model got x {tuple(x.shape)}, t {tuple(tt.shape)}, c {tuple(c.shape)}; expected (8, 2, 2), "
                  "(8,), (8, 5) for B = 4: concatenate on dim 0.",
               zh=f"model 收到的 x 为 {tuple(x.shape)}，t 为 {tuple(tt.shape)}，c 为 {tuple(c.shape)}；B = 4 时应为 "
                  "(8, 2, 2)、(8,)、(8, 5)：在 dim 0 上拼接。"))
    expect(torch.equal(x[:4], x_t) and torch.equal(x[4:], x_t) and torch.equal(tt[:4], t) and torch.equal(tt[4:], t),
           say(en="the doubled batch must be x = cat([x_t, x_t]) and t = cat([t, t]) (each example twice, in the same "
                  "order in both halves), not interleaved with repeat_interleave.",
               zh="加倍后的 batch 必须是 x = cat([x_t, x_t])、t = cat([t, t])（每个样本出现两次，前后两半顺序相同），"
                  "不能用 repeat_interleave 交错排列。"))
    expect(torch.equal(c[:4], null) and torch.equal(c[4:], cond),
           say(en="the condition batch must be cat([null_cond, cond]): the unconditional half FIRST, then the "
                  "conditional.",
               zh="条件 batch 必须是 cat([null_cond, cond])：无条件的一半在前，有条件的在后。"))


def test_does_not_modify_inputs(impl):
    model, x_t, t, cond, null = setup(4)
    before = [v.clone() for v in (x_t, t, cond, null)]
    impl.cfg_eps(model, x_t, t, cond, null, 5.0)
    expect(all(torch.equal(a, b) for a, b in zip(before, (x_t, t, cond, null))),
           say(en="cfg_eps modified one of its inputs in place; build new tensors with torch.cat.",
               zh="cfg_eps 原地修改了某个输入；请用 torch.cat 构造新张量。"))


@given(st.integers(1, 5), st.lists(st.integers(1, 3), min_size=1, max_size=3),
       st.sampled_from([-1.0, 0.0, 0.5, 1.0, 3.0, 7.5]),
       st.integers(0, 2**16))
def test_property_any_shape(impl, B, shape, scale, seed):
    model, x_t, t, cond, null = setup(seed, B=B, shape=tuple(shape), e=3)
    expect_close(impl.cfg_eps(model, x_t, t, cond, null, scale), oracle(model, x_t, t, cond, null, scale)[0],
                 say(en=f"cfg_eps on x_t of shape {tuple(x_t.shape)} with scale={scale}",
                     zh=f"x_t 形状为 {tuple(x_t.shape)}、scale={scale} 时的 cfg_eps"), atol=1e-4, rtol=1e-4, hint=HINT,
                 likely=likely_cfg_mistakes(model, x_t, t, cond, null, scale))
