"""dropout: inverted dropout — zero each element with probability p, scale survivors by 1/(1 − p); identity in eval."""
import torch

from genprep.learner.checks import expect, expect_close, expect_tensor, say

HINT = say(en="keep = torch.rand(x.shape, generator=generator) >= p (kept with probability 1 − p), "
              "then x * keep / (1 − p); return x unchanged when not training or p = 0, zeros when p = 1.",
           zh="keep = torch.rand(x.shape, generator=generator) >= p（以概率 1 − p 保留），再算 x * keep / (1 − p)；"
              "不在训练模式或 p = 0 时原样返回 x，p = 1 时返回全零。")


def positive_input(seed, shape=(64, 50)):
    """Inputs bounded away from 0, so an output of 0 always means 'dropped'."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=g) + 0.5


def test_survivors_are_scaled_by_one_over_one_minus_p(impl):
    x = positive_input(0)
    for p in (0.3, 0.75):
        what = f"dropout(x (64, 50), p={p}, generator=...)"
        out = impl.dropout(x, p, generator=torch.Generator().manual_seed(1))
        expect_tensor(out, what, shape=(64, 50), dtype=torch.float32)
        kept = out != 0
        expect(bool(kept.any()) and not bool(kept.all()),
               say(en=f"{what} should zero some elements and keep others; it zeroed {int((~kept).sum())} of {x.numel()}.",
                   zh=f"{what} 应把一部分元素置零、保留其余的；它把 {x.numel()} 个中的 {int((~kept).sum())} 个置零了。"))
        expect_close(out[kept], x[kept] / (1 - p), say(en=f"the surviving elements of {what}", zh=f"{what} 中保留下来的元素"),
                     atol=0.0, rtol=1e-6,
                     hint=say(en="Survivors are x / (1 − p) (inverted dropout), so that E[output] = x and evaluation "
                                 "needs no rescaling; not x itself and not x·(1 − p).",
                              zh="保留的元素是 x / (1 − p)（反向 dropout），这样 E[输出] = x，评估时也不需要再缩放；"
                                 "不是 x 本身，也不是 x·(1 − p)。"),
                     likely=((x[kept], say(en="survivors not scaled (the original, non-inverted dropout); divide them by "
                                              "1 − p.",
                                           zh="保留的元素没有缩放（原始的非反向 dropout）；要除以 1 − p。")),
                             (x[kept] * (1 - p), say(en="survivors multiplied by 1 − p; divide by 1 − p instead.",
                                                     zh="保留的元素乘了 1 − p；应改为除以 1 − p。"))))


def test_same_generator_state_gives_the_same_mask(impl):
    x = positive_input(2, (30, 20))
    a = impl.dropout(x, 0.4, generator=torch.Generator().manual_seed(123))
    torch.manual_seed(0)  # the global RNG must play no part when a generator is given
    torch.rand(7)
    b = impl.dropout(x, 0.4, generator=torch.Generator().manual_seed(123))
    expect(torch.equal(a, b),
           say(en="dropout(x, 0.4, generator=g) gave two different results for two generators seeded alike — draw the "
                  "mask from the generator: torch.rand(x.shape, generator=generator) (or torch.bernoulli(..., "
                  "generator=generator)), not from the global RNG.",
               zh="dropout(x, 0.4, generator=g) 对两个种子相同的生成器给出了不同的结果——掩码要从传入的生成器抽取："
                  "torch.rand(x.shape, generator=generator)（或 torch.bernoulli(..., generator=generator)），"
                  "不要用全局随机数生成器。"))
    c = impl.dropout(x, 0.4, generator=torch.Generator().manual_seed(124))
    expect(not torch.equal(a, c),
           say(en="dropout gave the same mask for generators with different seeds — the mask must be random, drawn "
                  "from the generator passed in.",
               zh="对种子不同的生成器，dropout 给出了相同的掩码——掩码必须是随机的，并从传入的生成器抽取。"))


def test_each_element_has_its_own_coin(impl):
    out = impl.dropout(torch.ones(200, 16), 0.5, generator=torch.Generator().manual_seed(6))
    zero = out == 0
    expect(not bool((zero == zero[0]).all()),
           say(en="every row of dropout(ones (200, 16), 0.5) has the same zero pattern — draw a mask of x's full "
                  "shape, not one mask of shape (16,) shared by the batch.",
               zh="dropout(ones (200, 16), 0.5) 的每一行置零的位置都一样——要抽取与 x 形状完全相同的掩码，"
                  "而不是让整个 batch 共用一个形状为 (16,) 的掩码。"))
    expect(not bool((zero == zero[:, :1]).all()),
           say(en="every column of dropout(ones (200, 16), 0.5) has the same zero pattern — draw one value per "
                  "element, not one per row.",
               zh="dropout(ones (200, 16), 0.5) 的每一列置零的位置都一样——要为每个元素各抽一个值，而不是每行一个。"))


def test_zero_fraction_and_mean_match_p(impl):
    # Monte Carlo over 40 000 elements: the zero fraction has sd ≤ 0.0025, the mean of dropout(ones) ≤ 0.01.
    ones = torch.ones(200, 200)
    for seed, p in ((3, 0.2), (4, 0.5), (5, 0.8)):
        out = impl.dropout(ones, p, generator=torch.Generator().manual_seed(seed))
        frac = (out == 0).double().mean().item()
        expect(abs(frac - p) < 0.015,
               say(en=f"dropout(ones, p={p}) zeroed a fraction {frac:.4f} of the elements, expected ≈ {p} — p is the "
                      "probability of DROPPING an element: keep where rand ≥ p (or rand < 1 − p), not where rand < p; "
                      "and draw one value per element (a mask of x's full shape).",
                   zh=f"dropout(ones, p={p}) 把 {frac:.4f} 比例的元素置零了，应约为 {p}——p 是丢弃一个元素的概率："
                      "在 rand ≥ p（或 rand < 1 − p）处保留，而不是在 rand < p 处；并且每个元素各抽一个值"
                      "（掩码形状与 x 相同）。"))
        mean = out.double().mean().item()
        expect(abs(mean - 1.0) < 0.05,
               say(en=f"the mean of dropout(ones, p={p}) is {mean:.4f}, expected ≈ 1 — scale the survivors by "
                      "1/(1 − p) so that the expected value is preserved.",
                   zh=f"dropout(ones, p={p}) 的均值是 {mean:.4f}，应约为 1——保留的元素要乘以 1/(1 − p)，"
                      "使期望值保持不变。"))


def test_identity_in_eval_and_at_p_zero(impl):
    x = positive_input(7, (5, 6)) - 1.0
    for kwargs, what in (({"training": False}, "dropout(x, 0.5, training=False)"),
                         ({}, "dropout(x, 0.0)")):
        p = 0.5 if kwargs else 0.0
        out = impl.dropout(x, p, generator=torch.Generator().manual_seed(8), **kwargs)
        expect_close(out, x, what, atol=0.0, rtol=0.0,
                     hint=say(en="Inverted dropout is the identity at evaluation time and for p = 0: no mask and no "
                                 "rescaling (the 1/(1 − p) factor was already applied during training). Check "
                                 "`training` before drawing a mask.",
                              zh="反向 dropout 在评估时和 p = 0 时是恒等映射：不加掩码也不缩放（1/(1 − p) 已在训练时"
                                 "乘过）。抽取掩码之前先检查 `training`。"))


def test_p_one_gives_zeros_without_nan(impl):
    x = positive_input(9, (4, 7))
    out = impl.dropout(x, 1.0, generator=torch.Generator().manual_seed(10))
    expect_tensor(out, "dropout(x, 1.0)", shape=(4, 7), dtype=torch.float32)
    expect(bool(torch.isfinite(out).all()),
           say(en="dropout(x, 1.0) contains NaN or inf — x·mask/(1 − p) is 0/0 at p = 1; return zeros for p = 1.",
               zh="dropout(x, 1.0) 含有 NaN 或 inf——p = 1 时 x·mask/(1 − p) 是 0/0；p = 1 时应返回全零。"))
    expect(bool((out == 0).all()), say(en="dropout(x, 1.0) must drop every element (all zeros).",
                                       zh="dropout(x, 1.0) 必须丢弃所有元素（全零）。"))


def test_gradient_is_the_scaled_mask_and_input_unchanged(impl):
    x0 = positive_input(11, (8, 9))
    x = x0.clone().requires_grad_(True)
    out = impl.dropout(x, 0.25, generator=torch.Generator().manual_seed(12))
    out.sum().backward()
    expect(x.grad is not None, say(en="no gradient reached x — build the output from x with torch ops (no .detach()).",
                                   zh="没有梯度传到 x——输出要用 torch 运算从 x 构造（不要 .detach()）。"))
    expect_close(x.grad, (out.detach() != 0).float() / 0.75, "d sum(dropout(x, 0.25)) / dx", atol=1e-6,
                 hint=say(en="The gradient passes through the kept elements scaled by 1/(1 − p) and is 0 at dropped "
                             "ones.",
                          zh="梯度经过保留的元素时乘以 1/(1 − p)，在被丢弃的元素处为 0。"))
    expect(torch.equal(x.detach(), x0), say(en="dropout modified x in place; return a new tensor (x * mask, not x.mul_).",
                                            zh="dropout 原地修改了 x；应返回新张量（x * mask，不要用 x.mul_）。"))
