"""Numbers a question shows, recomputed from the arithmetic it carries.

A question that says "the KV cache takes 1.25 GiB" also stores how that number
is computed (`numbers: [{what, expr, shows}]`); `genprep validate` evaluates
the expression and checks that the written number is that value rounded to the
digits it shows. Only arithmetic is evaluated: numbers, + - * / // % **, and a
few functions of `math` — a question file can never run code.
"""
from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable

FUNCTIONS: dict[str, Callable[..., float]] = {
    "log": math.log, "log2": math.log2, "log10": math.log10, "exp": math.exp, "sqrt": math.sqrt,
    "ceil": math.ceil, "floor": math.floor, "min": min, "max": max, "abs": abs, "round": round,
    "comb": math.comb, "factorial": math.factorial}
CONSTANTS = {"pi": math.pi, "e": math.e}
BINARY: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}
UNARY: dict[type, Callable[[float], float]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}
WRITTEN = re.compile(r"^-?[0-9][0-9,]*(\.[0-9]+)?([eE][-+]?[0-9]+)?$")
MAX_POWER = 4096  # keeps 10**10**10 from freezing validate


class NumberError(ValueError):
    """The expression is not plain arithmetic, or does not give the number shown."""


def evaluate(expr: str) -> float:
    """The value of an arithmetic expression; `NumberError` for anything else."""
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as exc:
        raise NumberError(f"is not a Python expression ({exc.msg})") from None
    except (RecursionError, MemoryError):
        raise NumberError("is nested too deeply; split it into simpler numbers") from None
    try:
        return float(_value(tree.body))
    except (ZeroDivisionError, OverflowError, ValueError, TypeError) as exc:  # 1/0, comb(2.5, 1), min()
        raise NumberError(f"cannot be computed: {exc}") from None
    except RecursionError:
        raise NumberError("is nested too deeply; split it into simpler numbers") from None


def _value(node: ast.AST) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.Name) and node.id in CONSTANTS:
        return CONSTANTS[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
        left, right = _value(node.left), _value(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_POWER:
            raise NumberError(f"exponent {right} is too large")
        return BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in UNARY:
        return UNARY[type(node.op)](_value(node.operand))
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS
            and not node.keywords):
        return FUNCTIONS[node.func.id](*(_value(a) for a in node.args))
    raise NumberError(f"may hold only numbers, + - * / // % **, {', '.join(CONSTANTS)} and "
                      f"{', '.join(FUNCTIONS)}(…); found {ast.unparse(node)!r}")


def rounding_of(shows: str) -> float:
    """Half a unit in the last digit written: '1.25' → 0.005, '671' → 0.5, '3.2e9' → 5e7."""
    mantissa, _, exponent = shows.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 0.5 * 10.0 ** (int(exponent or 0) - decimals)


def check(expr: str, shows: str) -> str | None:
    """None if `expr` rounds to `shows`; else what is wrong, in words."""
    if not WRITTEN.match(shows):
        return f"shows {shows!r}, which is not a number as written (digits, optional ',' '.' and e-exponent)"
    value = evaluate(expr)
    written = float(shows.replace(",", ""))
    if abs(value - written) > rounding_of(shows.replace(",", "")) * (1 + 1e-9):
        return f"{expr} = {value:.6g}, but the texts show {shows}; fix the number or the arithmetic"
    return None
