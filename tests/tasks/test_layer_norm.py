"""layer-norm: weight · (x − μ)/√(σ² + eps) + bias over the last dim, with the biased variance."""
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_tensor, say, usual_cause

HINT = say(en="Over the LAST dim only: μ = x.mean(-1, keepdim=True), σ² = ((x − μ)²).mean(-1, keepdim=True) "
              "(biased: divide by d, not d − 1; x.var(-1, unbiased=False)), then weight · (x − μ)/√(σ² + eps) + bias "
              "with eps INSIDE the square root.",
           zh="只在【最后一维】上计算：μ = x.mean(-1, keepdim=True)，σ² = ((x − μ)²).mean(-1, keepdim=True)"
              "（有偏估计：除以 d 而不是 d − 1；x.var(-1, unbiased=False)），然后 weight · (x − μ)/√(σ² + eps) + bias，"
              "eps 放在平方根【里面】。")


def oracle(x, weight, bias, eps=1e-5):
    return F.layer_norm(x.double(), (x.size(-1),), weight.double(), bias.double(), eps).float()


def likely_mistakes(x, weight, bias, eps=1e-5):
    """What the usual mistakes give, each with its cause."""
    x, w, b = x.double(), weight.double(), bias.double()
    mu = x.mean(-1, keepdim=True)
    var = (x - mu).pow(2).mean(-1, keepdim=True)
    pairs = [(w * (x - mu) / (var.sqrt() + eps) + b,
              say(en="dividing by σ + eps; put eps inside the square root: √(σ² + eps).",
                  zh="除以的是 σ + eps；eps 要放在平方根里面：√(σ² + eps)。"))]
    if x.size(-1) > 1:
        pairs.append((w * (x - mu) / (x.var(-1, keepdim=True) + eps).sqrt() + b,
                      say(en="the unbiased variance (divide by d − 1, x.var(-1)); layer norm uses the biased one: "
                             "x.var(-1, unbiased=False).",
                          zh="用了无偏方差（除以 d − 1，x.var(-1)）；层归一化用的是有偏方差：x.var(-1, unbiased=False)。")))
    if x.dim() > 1 and x.size(0) > 1:
        m0 = x.mean(0, keepdim=True)
        v0 = (x - m0).pow(2).mean(0, keepdim=True)
        pairs.append((w * (x - m0) / (v0 + eps).sqrt() + b,
                      say(en="statistics over the batch (dim=0, as batch norm); layer norm normalizes each row over its "
                             "features, the last dim.",
                          zh="统计量是在 batch 维（dim=0，像批归一化那样）上算的；层归一化要对每一行在其特征维（最后一维）"
                             "上归一化。")))
    return tuple((r.float(), c) for r, c in pairs)


def call(impl, x, weight, bias, eps=None):
    return impl.layer_norm(x, weight, bias) if eps is None else impl.layer_norm(x, weight, bias, eps)


def test_matches_pytorch(impl):
    g = torch.Generator().manual_seed(0)
    x = 3 * torch.randn(2, 5, 8, generator=g) + 1
    weight, bias = torch.randn(8, generator=g), torch.randn(8, generator=g)
    got = call(impl, x, weight, bias)
    expect_tensor(got, "layer_norm(x (2, 5, 8), weight, bias)", shape=(2, 5, 8), dtype=torch.float32)
    expect_close(got, oracle(x, weight, bias), "layer_norm(x (2, 5, 8), weight, bias)", atol=1e-5, hint=HINT,
                 likely=likely_mistakes(x, weight, bias))


def test_short_rows_show_the_variance_estimator(impl):
    # With d = 4 the unbiased estimator is 4/3 times the biased one: a 13% difference in the output.
    x = torch.tensor([[1.0, 2.0, 3.0, 6.0], [-1.0, 0.5, 0.0, 4.0]])
    got = call(impl, x, torch.ones(4), torch.zeros(4))
    expect_close(got, oracle(x, torch.ones(4), torch.zeros(4)),
                 say(en="layer_norm on rows of length 4", zh="行长为 4 时的 layer_norm"), atol=1e-5,
                 hint=HINT, likely=likely_mistakes(x, torch.ones(4), torch.zeros(4)))


def test_normalized_rows_have_mean_zero_and_variance_one(impl):
    g = torch.Generator().manual_seed(1)
    x = 5 * torch.randn(6, 16, generator=g) - 2
    got = call(impl, x, torch.ones(16), torch.zeros(16))
    expect_tensor(got, "layer_norm(x (6, 16), ones, zeros)", shape=(6, 16), dtype=torch.float32)
    mean, var = got.double().mean(-1), got.double().var(-1, unbiased=False)
    worst = int((var - 1).abs().argmax())
    row, m = int(mean.abs().argmax()), mean.abs().max().item()
    cause = usual_cause(got, likely_mistakes(x, torch.ones(16), torch.zeros(16)), HINT)
    expect(bool((mean.abs() < 1e-5).all()),
           say(en=f"with weight 1 and bias 0 every row must have mean 0; row {row} has mean {m:.3g} — subtract the mean "
                  f"of each row (dim=-1). {cause.en}",
               zh=f"weight 为 1、bias 为 0 时每一行的均值都必须为 0；第 {row} 行的均值为 {m:.3g}——要减去每一行自己的均值"
                  f"（dim=-1）。{cause.zh}"))
    expect(bool(((var - 1).abs() < 1e-3).all()),
           say(en=f"with weight 1 and bias 0 every row must have (biased) variance 1; row {worst} has "
                  f"{var[worst].item():.4f}. {cause.en}",
               zh=f"weight 为 1、bias 为 0 时每一行的（有偏）方差都必须为 1；第 {worst} 行为 {var[worst].item():.4f}。"
                  f"{cause.zh}"))


def test_eps_inside_the_square_root_for_small_variance(impl):
    # Rows with variance ~1e-4: eps = 1e-2 dominates, and where it goes matters.
    g = torch.Generator().manual_seed(2)
    x = 1e-2 * torch.randn(3, 6, generator=g) + 0.5
    weight, bias = torch.randn(6, generator=g), torch.randn(6, generator=g)
    for eps in (1e-2, 1e-3):
        expect_close(call(impl, x, weight, bias, eps), oracle(x, weight, bias, eps),
                     say(en=f"layer_norm on rows with standard deviation ~0.01, eps={eps}",
                         zh=f"各行标准差约为 0.01、eps={eps} 时的 layer_norm"), atol=1e-4, hint=HINT,
                     likely=likely_mistakes(x, weight, bias, eps))


def test_does_not_modify_inputs(impl):
    x = torch.randn(2, 3, 4)
    weight, bias = torch.randn(4), torch.randn(4)
    before = (x.clone(), weight.clone(), bias.clone())
    call(impl, x, weight, bias)
    expect(all(torch.equal(a, b) for a, b in zip(before, (x, weight, bias))),
           say(en="layer_norm modified its inputs in place; use out-of-place ops (x - mu, not x.sub_(mu)).",
               zh="layer_norm 原地修改了输入；请用非原地运算（x - mu，不要用 x.sub_(mu)）。"))


@given(st.lists(st.integers(1, 4), min_size=0, max_size=2), st.integers(2, 6), st.integers(0, 2**16))
def test_property_any_shape(impl, batch, d, seed):
    g = torch.Generator().manual_seed(seed)
    x = 2 * torch.randn(*batch, d, generator=g)
    weight, bias = torch.randn(d, generator=g), torch.randn(d, generator=g)
    expect_close(call(impl, x, weight, bias), oracle(x, weight, bias),
                 say(en=f"layer_norm on x of shape {tuple(x.shape)}", zh=f"x 形状为 {tuple(x.shape)} 时的 layer_norm"),
                 atol=1e-3, rtol=1e-3, hint=HINT, likely=likely_mistakes(x, weight, bias))
