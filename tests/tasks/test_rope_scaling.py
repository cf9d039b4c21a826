"""rope-scaling: RoPE inverse frequencies θ_i = base^(−2i/dim), with position interpolation ("linear") or NTK-aware scaling."""
import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import CheckFailed, expect, expect_close, expect_deterministic, expect_tensor

RTOL = 1e-5  # any float32 evaluation of base ** (-2i/dim) is far closer than this
PLAIN = "θ_i = base^(−2i/dim) for i = 0 .. dim/2 − 1, i.e. base ** (-torch.arange(0, dim, 2) / dim)."


def closed(dim, base=10000.0, method="none", factor=1.0):
    """The closed forms in float64."""
    if method == "ntk":
        base = base * factor ** (dim / (dim - 2))
    theta = torch.tensor([base ** (-2.0 * i / dim) for i in range(dim // 2)], dtype=torch.float64)
    return (theta / factor if method == "linear" else theta).float()


def get(impl, dim, what=None, **kwargs):
    got = impl.rope_inv_freq(dim, **kwargs)
    what = what or f"rope_inv_freq({dim}{''.join(f', {k}={v!r}' for k, v in kwargs.items())})"
    return expect_tensor(got, what, shape=(dim // 2,), dtype=torch.float32), what


def test_plain_frequencies(impl):
    for dim, base in ((4, 10000.0), (8, 10000.0), (64, 10000.0), (128, 500000.0)):
        got, what = get(impl, dim, base=base)
        expect_close(got, closed(dim, base), what, atol=0, rtol=RTOL,
                     hint=PLAIN + " The exponent steps by 2/dim (i counts pairs), and the base argument is used.")


def test_default_method_is_none(impl):
    got, what = get(impl, 16, what="rope_inv_freq(16) with the defaults")
    expect_close(got, closed(16), what, atol=0, rtol=RTOL, hint="Defaults: base=10000.0, method='none'. " + PLAIN)
    expect(abs(got[0].item() - 1.0) < 1e-6, f"θ_0 must be base^0 = 1 (the highest frequency); got {got[0].item()}.")


def test_linear_divides_every_frequency(impl):
    for dim, factor in ((8, 4.0), (32, 2.0), (16, 1.5)):
        got, what = get(impl, dim, method="linear", factor=factor)
        expect_close(got, closed(dim, method="linear", factor=factor), what, atol=0, rtol=RTOL,
                     hint="Position interpolation divides EVERY frequency by factor (positions m → m / factor): "
                          "θ_i / factor — dividing, not multiplying.")


def test_ntk_closed_form(impl):
    for dim, base, factor in ((8, 10000.0, 4.0), (64, 10000.0, 8.0), (128, 500000.0, 2.0), (6, 10000.0, 3.0)):
        got, what = get(impl, dim, base=base, method="ntk", factor=factor)
        expect_close(got, closed(dim, base, "ntk", factor), what, atol=0, rtol=RTOL,
                     hint="NTK-aware scaling changes only the base: base' = base · factor^(dim / (dim − 2)), then "
                          "θ_i = base'^(−2i/dim).")


def test_ntk_keeps_the_highest_and_divides_the_lowest_by_factor(impl):
    dim, factor = 16, 4.0
    ntk, what = get(impl, dim, method="ntk", factor=factor)
    plain, _ = get(impl, dim)
    expect(abs(ntk[0].item() - plain[0].item()) <= 1e-6,
           f"{what}[0] = {ntk[0].item():.6g} but the unscaled θ_0 is {plain[0].item():.6g}; NTK-aware scaling leaves "
           "the highest frequency (i = 0) unchanged, because base'^0 = 1.")
    ratio = (plain[-1].double() / ntk[-1].double()).item()
    expect(abs(ratio - factor) <= 1e-4 * factor,
           f"under NTK-aware scaling the lowest frequency θ_{dim // 2 - 1} must be divided by exactly factor = "
           f"{factor:g}; it was divided by {ratio:.6g}. The exponent dim/(dim − 2) on factor is what makes "
           "(base · factor^(dim/(dim−2)))^(−(dim−2)/dim) = base^(−(dim−2)/dim) / factor.")
    middle = plain[1:-1].double() / ntk[1:-1].double()
    expect(bool(((middle > 1) & (middle < factor)).all()),
           f"under NTK-aware scaling the frequencies between the first and the last are divided by less than "
           f"factor and more than 1; the divisors were {middle.tolist()}.")


def test_factor_one_changes_nothing(impl):
    plain, _ = get(impl, 12)
    for method in ("none", "linear", "ntk"):
        got, what = get(impl, 12, method=method, factor=1.0)
        expect_close(got, plain, what + " vs rope_inv_freq(12)", atol=0, rtol=RTOL,
                     hint="With factor = 1 every method must give the plain frequencies.")


def test_unknown_method_raises_value_error(impl):
    for method in ("yarn", "dynamic", "NTK-by-parts"):
        try:
            impl.rope_inv_freq(8, method=method, factor=2.0)
        except ValueError:
            continue
        except Exception as exc:  # noqa: BLE001 — any other error type breaks the contract
            raise CheckFailed(f"rope_inv_freq(8, method={method!r}) raised {type(exc).__name__}: {exc}; the task "
                              "asks for a ValueError on an unknown method.") from None
        expect(False, f"rope_inv_freq(8, method={method!r}) returned a result; an unknown method must raise "
                      "ValueError (silently falling back to 'none' hides typos).")


def test_deterministic(impl):
    expect_deterministic(impl.rope_inv_freq, 16, 10000.0, "ntk", 4.0, what="rope_inv_freq(16, 10000.0, 'ntk', 4.0)")


@given(st.integers(2, 64), st.sampled_from(["none", "linear", "ntk"]), st.floats(1.0, 16.0),
       st.sampled_from([10000.0, 1e6, 500.0]))
def test_property_any_dim(impl, half, method, factor, base):
    dim = 2 * half
    got, what = get(impl, dim, base=base, method=method, factor=factor)
    expect_close(got, closed(dim, base, method, factor), what, atol=0, rtol=RTOL,
                 hint=PLAIN + " 'linear': θ_i / factor; 'ntk': base' = base · factor^(dim/(dim − 2)).")
