"""classifier-free-guidance: ε = ε_u + scale·(ε_c − ε_u) from ONE model call on the doubled batch [uncond; cond].

Oracle: the same toy denoiser evaluated in float64 on the unconditional and the conditional inputs separately.
The denoiser records every call, so the tests also see how it was called.
"""
import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import CheckFailed, expect, expect_close, expect_tensor

HINT = ("Build ONE batch of 2B: x = cat([x_t, x_t]), t = cat([t, t]), c = cat([null_cond, cond]) on dim 0; call "
        "model once; ε_u = out[:B] (unconditional, first), ε_c = out[B:]; return ε_u + scale·(ε_c − ε_u).")


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
            raise CheckFailed(f"model(x, t, c) was called with x {tuple(x.shape)}, t {tuple(t.shape)}, "
                              f"c {tuple(c.shape)}: all three need the same batch size (2B), t of shape (2B,). "
                              "Double t as well: torch.cat([t, t]).")
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


def test_matches_separate_evaluations_for_several_scales(impl):
    model, x_t, t, cond, null = setup()
    for scale in (0.0, 1.0, 2.0, 7.5):
        what = f"cfg_eps(model, x_t (3, 2, 2), t, cond, null_cond, scale={scale})"
        got = impl.cfg_eps(model, x_t, t, cond, null, scale)
        expect_tensor(got, what, shape=(3, 2, 2), dtype=torch.float32)
        expect_close(got, oracle(model, x_t, t, cond, null, scale)[0], what, atol=1e-5, rtol=1e-4, hint=HINT)


def test_scale_zero_is_unconditional_and_scale_one_conditional(impl):
    model, x_t, t, cond, null = setup(1)
    _, eps_u, eps_c = oracle(model, x_t, t, cond, null, 0.0)
    expect_close(impl.cfg_eps(model, x_t, t, cond, null, 0.0), eps_u, "cfg_eps with scale=0", atol=1e-5,
                 hint="scale = 0 must give the UNCONDITIONAL prediction ε_u. If you got ε_c, the halves are swapped: "
                      "null_cond goes in the FIRST half of the batch and ε_u is out[:B].")
    expect_close(impl.cfg_eps(model, x_t, t, cond, null, 1.0), eps_c, "cfg_eps with scale=1", atol=1e-5,
                 hint="scale = 1 means no guidance: exactly the conditional prediction ε_c. If you got "
                      "2ε_c − ε_u you used the other convention ε_c + w·(ε_c − ε_u); here w = scale − 1.")


def test_extrapolates_linearly_beyond_one(impl):
    model, x_t, t, cond, null = setup(2)
    _, eps_u, eps_c = oracle(model, x_t, t, cond, null, 0.0)
    for scale in (1.5, 4.0):
        expect_close(impl.cfg_eps(model, x_t, t, cond, null, scale), eps_c + (scale - 1) * (eps_c - eps_u),
                     f"cfg_eps with scale={scale}", atol=2e-5, rtol=1e-4,
                     hint="Guidance extrapolates along ε_c − ε_u past ε_c: ε = ε_c + (scale − 1)(ε_c − ε_u), linear "
                          "in scale; do not normalize or clamp the result.")


def test_model_called_once_on_the_doubled_batch(impl):
    model, x_t, t, cond, null = setup(3, B=4)
    null = torch.randn(4, 5, generator=torch.Generator().manual_seed(9))  # a learned null embedding, not zeros
    impl.cfg_eps(model, x_t, t, cond, null, 3.0)
    expect(len(model.calls) == 1,
           f"cfg_eps called the model {len(model.calls)} times; call it exactly ONCE on the doubled batch of 2B "
           "(one forward pass instead of two is the point of batching CFG).")
    x, tt, c = model.calls[0]
    expect(tuple(x.shape) == (8, 2, 2) and tuple(tt.shape) == (8,) and tuple(c.shape) == (8, 5),
           f"the model got x {tuple(x.shape)}, t {tuple(tt.shape)}, c {tuple(c.shape)}; expected (8, 2, 2), (8,), "
           "(8, 5) for B = 4: concatenate on dim 0.")
    expect(torch.equal(x[:4], x_t) and torch.equal(x[4:], x_t) and torch.equal(tt[:4], t) and torch.equal(tt[4:], t),
           "the doubled batch must be x = cat([x_t, x_t]) and t = cat([t, t]) (each example twice, in the same "
           "order in both halves), not interleaved with repeat_interleave.")
    expect(torch.equal(c[:4], null) and torch.equal(c[4:], cond),
           "the condition batch must be cat([null_cond, cond]): the unconditional half FIRST, then the conditional.")


def test_does_not_modify_inputs(impl):
    model, x_t, t, cond, null = setup(4)
    before = [v.clone() for v in (x_t, t, cond, null)]
    impl.cfg_eps(model, x_t, t, cond, null, 5.0)
    expect(all(torch.equal(a, b) for a, b in zip(before, (x_t, t, cond, null))),
           "cfg_eps modified one of its inputs in place; build new tensors with torch.cat.")


@given(st.integers(1, 5), st.lists(st.integers(1, 3), min_size=1, max_size=3),
       st.sampled_from([-1.0, 0.0, 0.5, 1.0, 3.0, 7.5]),
       st.integers(0, 2**16))
def test_property_any_shape(impl, B, shape, scale, seed):
    model, x_t, t, cond, null = setup(seed, B=B, shape=tuple(shape), e=3)
    expect_close(impl.cfg_eps(model, x_t, t, cond, null, scale), oracle(model, x_t, t, cond, null, scale)[0],
                 f"cfg_eps on x_t of shape {tuple(x_t.shape)} with scale={scale}", atol=1e-4, rtol=1e-4, hint=HINT)
