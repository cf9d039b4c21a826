"""layer-norm: weight · (x − μ)/√(σ² + eps) + bias over the last dim, with the biased variance."""
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_tensor

HINT = ("Over the LAST dim only: μ = x.mean(-1, keepdim=True), σ² = ((x − μ)²).mean(-1, keepdim=True) "
        "(biased: divide by d, not d − 1; x.var(-1, unbiased=False)), then weight · (x − μ)/√(σ² + eps) + bias "
        "with eps INSIDE the square root.")


def oracle(x, weight, bias, eps=1e-5):
    return F.layer_norm(x.double(), (x.size(-1),), weight.double(), bias.double(), eps).float()


def call(impl, x, weight, bias, eps=None):
    return impl.layer_norm(x, weight, bias) if eps is None else impl.layer_norm(x, weight, bias, eps)


def test_matches_pytorch(impl):
    g = torch.Generator().manual_seed(0)
    x = 3 * torch.randn(2, 5, 8, generator=g) + 1
    weight, bias = torch.randn(8, generator=g), torch.randn(8, generator=g)
    got = call(impl, x, weight, bias)
    expect_tensor(got, "layer_norm(x (2, 5, 8), weight, bias)", shape=(2, 5, 8), dtype=torch.float32)
    expect_close(got, oracle(x, weight, bias), "layer_norm(x (2, 5, 8), weight, bias)", atol=1e-5, hint=HINT)


def test_short_rows_show_the_variance_estimator(impl):
    # With d = 4 the unbiased estimator is 4/3 times the biased one: a 13% difference in the output.
    x = torch.tensor([[1.0, 2.0, 3.0, 6.0], [-1.0, 0.5, 0.0, 4.0]])
    got = call(impl, x, torch.ones(4), torch.zeros(4))
    expect_close(got, oracle(x, torch.ones(4), torch.zeros(4)), "layer_norm on rows of length 4", atol=1e-5,
                 hint=HINT)


def test_normalized_rows_have_mean_zero_and_variance_one(impl):
    g = torch.Generator().manual_seed(1)
    x = 5 * torch.randn(6, 16, generator=g) - 2
    got = call(impl, x, torch.ones(16), torch.zeros(16))
    expect_tensor(got, "layer_norm(x (6, 16), ones, zeros)", shape=(6, 16), dtype=torch.float32)
    mean, var = got.double().mean(-1), got.double().var(-1, unbiased=False)
    worst = int((var - 1).abs().argmax())
    expect(bool((mean.abs() < 1e-5).all()),
           f"with weight 1 and bias 0 every row must have mean 0; row {int(mean.abs().argmax())} has mean "
           f"{mean.abs().max().item():.3g} — subtract the mean of each row (dim=-1).")
    expect(bool(((var - 1).abs() < 1e-3).all()),
           f"with weight 1 and bias 0 every row must have (biased) variance 1; row {worst} has "
           f"{var[worst].item():.4f}. {HINT}")


def test_eps_inside_the_square_root_for_small_variance(impl):
    # Rows with variance ~1e-4: eps = 1e-2 dominates, and where it goes matters.
    g = torch.Generator().manual_seed(2)
    x = 1e-2 * torch.randn(3, 6, generator=g) + 0.5
    weight, bias = torch.randn(6, generator=g), torch.randn(6, generator=g)
    for eps in (1e-2, 1e-3):
        expect_close(call(impl, x, weight, bias, eps), oracle(x, weight, bias, eps),
                     f"layer_norm on rows with standard deviation ~0.01, eps={eps}", atol=1e-4, hint=HINT)


def test_does_not_modify_inputs(impl):
    x = torch.randn(2, 3, 4)
    weight, bias = torch.randn(4), torch.randn(4)
    before = (x.clone(), weight.clone(), bias.clone())
    call(impl, x, weight, bias)
    expect(all(torch.equal(a, b) for a, b in zip(before, (x, weight, bias))),
           "layer_norm modified its inputs in place; use out-of-place ops (x - mu, not x.sub_(mu)).")


@given(st.lists(st.integers(1, 4), min_size=0, max_size=2), st.integers(2, 6), st.integers(0, 2**16))
def test_property_any_shape(impl, batch, d, seed):
    g = torch.Generator().manual_seed(seed)
    x = 2 * torch.randn(*batch, d, generator=g)
    weight, bias = torch.randn(d, generator=g), torch.randn(d, generator=g)
    expect_close(call(impl, x, weight, bias), oracle(x, weight, bias),
                 f"layer_norm on x of shape {tuple(x.shape)}", atol=1e-3, rtol=1e-3, hint=HINT)
