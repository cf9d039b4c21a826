"""Computed numbers: the arithmetic a question carries is evaluated safely and must round to the number shown."""
from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from genprep.bank.numbers import NumberError, check, evaluate, rounding_of


@pytest.mark.parametrize("expr, value", [
    ("2 * 80 * 8 * 128 * 2 * 4096 / 2**30", 1.25),  # Llama-2-70B-style KV cache at 4k tokens, bf16, GiB
    ("(4 - 1) / (8 + 4 - 1)", 3 / 11),  # a pipeline bubble fraction
    ("log2(50257)", math.log2(50257)),
    ("-min(3, 4) + abs(-2) + 7 // 2 + 7 % 4", 5),
    ("sqrt(2) * pi", math.sqrt(2) * math.pi),
])
def test_arithmetic_is_evaluated(expr, value):
    assert evaluate(expr) == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize("expr", ["__import__('os').system('true')", "open('/etc/passwd')", "x + 1",
                                  "(1).__class__", "[1, 2]", "'a' * 3", "lambda: 1", "10 ** 10 ** 10", "1 if 1 else 2"])
def test_anything_but_arithmetic_is_refused(expr):
    with pytest.raises(NumberError):
        evaluate(expr)


@pytest.mark.parametrize("expr", ["1 / 0", "comb(2.5, 1)", "min()", "log(-1)", "round(1, 2, 3)"])
def test_errors_of_arithmetic_are_reported_not_raised(expr):
    with pytest.raises(NumberError, match="cannot be computed"):
        evaluate(expr)


def test_a_deeply_nested_expression_is_refused_with_a_message():
    with pytest.raises(NumberError, match="nested too deeply|not a Python expression"):
        evaluate("-" * 5000 + "1")


@pytest.mark.parametrize("shows, half_unit", [("1.25", 0.005), ("671", 0.5), ("3.2e9", 5e7), ("0.1", 0.05)])
def test_rounding_is_half_a_unit_of_the_last_digit_shown(shows, half_unit):
    assert rounding_of(shows) == pytest.approx(half_unit)


def test_a_number_shown_with_commas_and_too_few_digits():
    assert check("2**20", "1,048,576") is None
    assert check("2**30 / 1e9", "1.07") is None  # 1.0737…
    assert "but the texts show 1.08" in check("2**30 / 1e9", "1.08")
    assert "not a number" in check("1", "about 1")


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.integers(min_value=0, max_value=4))
def test_the_value_rounded_as_shown_always_passes_and_one_unit_off_never(x, digits):
    shown = f"{x:.{digits}f}"
    assert check(repr(x), shown) is None
    off = f"{float(shown) + 1.01 * 10 ** -digits * 2:.{digits}f}"
    assert check(repr(x), off) is not None
