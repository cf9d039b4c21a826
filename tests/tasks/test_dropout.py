"""dropout: inverted dropout — zero each element with probability p, scale survivors by 1/(1 − p); identity in eval."""
import torch

from genprep.learner.checks import expect, expect_close, expect_tensor

HINT = ("keep = torch.rand(x.shape, generator=generator) >= p (kept with probability 1 − p), "
        "then x * keep / (1 − p); return x unchanged when not training or p = 0, zeros when p = 1.")


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
               f"{what} should zero some elements and keep others; it zeroed {int((~kept).sum())} of {x.numel()}.")
        expect_close(out[kept], x[kept] / (1 - p), f"the surviving elements of {what}", atol=0.0, rtol=1e-6,
                     hint="Survivors are x / (1 − p) (inverted dropout), so that E[output] = x and evaluation "
                          "needs no rescaling; not x itself and not x·(1 − p).")


def test_same_generator_state_gives_the_same_mask(impl):
    x = positive_input(2, (30, 20))
    a = impl.dropout(x, 0.4, generator=torch.Generator().manual_seed(123))
    torch.manual_seed(0)  # the global RNG must play no part when a generator is given
    torch.rand(7)
    b = impl.dropout(x, 0.4, generator=torch.Generator().manual_seed(123))
    expect(torch.equal(a, b),
           "dropout(x, 0.4, generator=g) gave two different results for two generators seeded alike — draw the "
           "mask from the generator: torch.rand(x.shape, generator=generator) (or torch.bernoulli(..., "
           "generator=generator)), not from the global RNG.")
    c = impl.dropout(x, 0.4, generator=torch.Generator().manual_seed(124))
    expect(not torch.equal(a, c),
           "dropout gave the same mask for generators with different seeds — the mask must be random, drawn from "
           "the generator passed in.")


def test_each_element_has_its_own_coin(impl):
    out = impl.dropout(torch.ones(200, 16), 0.5, generator=torch.Generator().manual_seed(6))
    zero = out == 0
    expect(not bool((zero == zero[0]).all()),
           "every row of dropout(ones (200, 16), 0.5) has the same zero pattern — draw a mask of x's full shape, "
           "not one mask of shape (16,) shared by the batch.")
    expect(not bool((zero == zero[:, :1]).all()),
           "every column of dropout(ones (200, 16), 0.5) has the same zero pattern — draw one value per element, "
           "not one per row.")


def test_zero_fraction_and_mean_match_p(impl):
    # Monte Carlo over 40 000 elements: the zero fraction has sd ≤ 0.0025, the mean of dropout(ones) ≤ 0.01.
    ones = torch.ones(200, 200)
    for seed, p in ((3, 0.2), (4, 0.5), (5, 0.8)):
        out = impl.dropout(ones, p, generator=torch.Generator().manual_seed(seed))
        frac = (out == 0).double().mean().item()
        expect(abs(frac - p) < 0.015,
               f"dropout(ones, p={p}) zeroed a fraction {frac:.4f} of the elements, expected ≈ {p} — p is the "
               "probability of DROPPING an element: keep where rand ≥ p (or rand < 1 − p), not where rand < p; "
               "and draw one value per element (a mask of x's full shape).")
        mean = out.double().mean().item()
        expect(abs(mean - 1.0) < 0.05,
               f"the mean of dropout(ones, p={p}) is {mean:.4f}, expected ≈ 1 — scale the survivors by 1/(1 − p) "
               "so that the expected value is preserved.")


def test_identity_in_eval_and_at_p_zero(impl):
    x = positive_input(7, (5, 6)) - 1.0
    for kwargs, what in (({"training": False}, "dropout(x, 0.5, training=False)"),
                         ({}, "dropout(x, 0.0)")):
        p = 0.5 if kwargs else 0.0
        out = impl.dropout(x, p, generator=torch.Generator().manual_seed(8), **kwargs)
        expect_close(out, x, what, atol=0.0, rtol=0.0,
                     hint="Inverted dropout is the identity at evaluation time and for p = 0: no mask and no "
                          "rescaling (the 1/(1 − p) factor was already applied during training).")


def test_p_one_gives_zeros_without_nan(impl):
    x = positive_input(9, (4, 7))
    out = impl.dropout(x, 1.0, generator=torch.Generator().manual_seed(10))
    expect_tensor(out, "dropout(x, 1.0)", shape=(4, 7), dtype=torch.float32)
    expect(bool(torch.isfinite(out).all()),
           "dropout(x, 1.0) contains NaN or inf — x·mask/(1 − p) is 0/0 at p = 1; return zeros for p = 1.")
    expect(bool((out == 0).all()), "dropout(x, 1.0) must drop every element (all zeros).")


def test_gradient_is_the_scaled_mask_and_input_unchanged(impl):
    x0 = positive_input(11, (8, 9))
    x = x0.clone().requires_grad_(True)
    out = impl.dropout(x, 0.25, generator=torch.Generator().manual_seed(12))
    out.sum().backward()
    expect(x.grad is not None, "no gradient reached x — build the output from x with torch ops (no .detach()).")
    expect_close(x.grad, (out.detach() != 0).float() / 0.75, "d sum(dropout(x, 0.25)) / dx", atol=1e-6,
                 hint="The gradient passes through the kept elements scaled by 1/(1 − p) and is 0 at dropped ones.")
    expect(torch.equal(x.detach(), x0), "dropout modified x in place; return a new tensor (x * mask, not x.mul_).")
