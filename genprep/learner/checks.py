"""Assertions for task tests that explain failures in words a candidate understands.

Each check raises `CheckFailed` (an AssertionError) whose message says what
was called, what came back, what was expected, and the usual cause. The
pytest plugin prints that message on its own, without a wall of traceback.
"""
from __future__ import annotations

from typing import Any

import torch


class CheckFailed(AssertionError):
    """A task test found a wrong result; the message is for the learner."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def expect_tensor(value: Any, what: str, *, shape: tuple | torch.Size | None = None,
                  dtype: torch.dtype | None = None) -> torch.Tensor:
    """`value` is a tensor of the given shape and dtype (when given)."""
    if not isinstance(value, torch.Tensor):
        raise CheckFailed(f"{what} should return a torch.Tensor, but returned {type(value).__name__}: {value!r:.200}")
    if shape is not None and tuple(value.shape) != tuple(shape):
        raise CheckFailed(f"{what} returned shape {tuple(value.shape)}, expected {tuple(shape)} — "
                          "check which dimensions you reduce, transpose or keep")
    if dtype is not None and value.dtype != dtype:
        raise CheckFailed(f"{what} returned dtype {value.dtype}, expected {dtype} — "
                          "keep the input's dtype (avoid .double(), python floats or integer tensors in the result)")
    if value.device.type != "cpu":
        raise CheckFailed(f"{what} returned a tensor on {value.device}; keep results on the input's device (cpu)")
    return value


def _matches(actual: torch.Tensor, other: Any, atol: float, rtol: float) -> bool:
    other = torch.as_tensor(other)
    if other.shape != actual.shape:
        return False
    a, o = actual.detach().to(torch.float64), other.detach().to(torch.float64)
    return bool(((a - o).abs() <= atol + rtol * o.abs()).all())


def expect_close(actual: Any, expected: torch.Tensor, what: str, *, atol: float = 1e-5,
                 rtol: float = 1e-4, hint: str = "", check_dtype: bool = True,
                 likely: tuple[tuple[Any, str], ...] = ()) -> None:
    """`actual` matches `expected` elementwise within |a − e| ≤ atol + rtol·|e|.

    Shape (and dtype unless `check_dtype=False`) are checked first; NaN/inf in
    `actual` where `expected` is finite is reported as such. `likely` pairs the
    result of a known mistake (computed by the test on the same inputs) with its
    cause: when `actual` equals one of them, that cause replaces the generic hint.
    """
    if likely and isinstance(actual, torch.Tensor):
        e = torch.as_tensor(expected)
        if not _matches(actual, e, atol, rtol):
            for result, cause in likely:
                if _matches(actual, result, atol, rtol):
                    hint = f"Your result is exactly what {cause}"
                    break
    expected = torch.as_tensor(expected)
    actual = expect_tensor(actual, what, shape=expected.shape,
                           dtype=expected.dtype if check_dtype else None)
    a = actual.detach().to(torch.float64)
    e = expected.detach().to(torch.float64)
    bad_nonfinite = ~torch.isfinite(a) & torch.isfinite(e)
    if bad_nonfinite.any():
        idx = tuple(int(i) for i in bad_nonfinite.nonzero()[0])
        raise CheckFailed(f"{what} contains {a[idx].item()} at index {idx} where {_fmt(e[idx].item())} was expected — "
                          f"an overflow or a log/division of 0? {hint}".rstrip())
    both_inf = ~torch.isfinite(e)
    diff = (a - e).abs()
    diff = torch.where(both_inf & (a == e), torch.zeros_like(diff), diff)
    allowed = atol + rtol * e.abs().nan_to_num(posinf=0.0, neginf=0.0)
    bad = (diff > allowed) | diff.isnan()
    if bad.any():
        excess = torch.where(bad, (diff - allowed).nan_to_num(nan=float("inf")), torch.full_like(diff, -1.0))
        flat = int(excess.reshape(-1).argmax())
        idx = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), diff.shape)) if diff.dim() else ()
        raise CheckFailed(
            f"{what} is wrong at {int(bad.sum())} of {diff.numel()} entries; worst at index {idx}: "
            f"got {_fmt(a[idx].item())}, expected {_fmt(e[idx].item())} "
            f"(tolerance {atol:g} + {rtol:g}·|expected|). {hint}".rstrip())


def expect_scalar(actual: Any, expected: float | torch.Tensor, what: str, *, atol: float = 1e-5,
                  rtol: float = 1e-4, hint: str = "", dtype: torch.dtype | None = torch.float32,
                  likely: tuple[tuple[Any, str], ...] = ()) -> None:
    """A 0-dim tensor (e.g. a loss) close to `expected`."""
    exp = torch.as_tensor(expected, dtype=dtype or torch.float32)
    if isinstance(actual, torch.Tensor) and actual.dim() != 0:
        raise CheckFailed(f"{what} should be a 0-dim tensor (a single number, e.g. from .mean()), "
                          f"but has shape {tuple(actual.shape)} — did you forget to reduce over the batch?")
    expect_close(actual, exp.reshape(()), what, atol=atol, rtol=rtol, hint=hint, check_dtype=dtype is not None,
                 likely=tuple((torch.as_tensor(r).reshape(()), c) for r, c in likely))


def expect_unchanged(before: torch.Tensor, after: torch.Tensor, what: str) -> None:
    """An input the function must not modify in place."""
    if not torch.equal(before, after):
        raise CheckFailed(f"{what} was modified in place; do not write into your inputs "
                          "(use out-of-place ops like x - m instead of x.sub_(m))")


def expect_deterministic(fn, *args, what: str, **kwargs) -> Any:
    """Call `fn` twice on copies of the same inputs; the results must be identical.

    For tasks whose contract has no randomness: a result that changes between
    calls means the implementation draws random numbers (or depends on state)
    where it must not. Returns the first result.
    """
    def copy(v):
        return v.clone() if isinstance(v, torch.Tensor) else v

    first = fn(*map(copy, args), **{k: copy(v) for k, v in kwargs.items()})
    second = fn(*map(copy, args), **{k: copy(v) for k, v in kwargs.items()})
    pairs = list(zip(first, second)) if isinstance(first, tuple) else [(first, second)]
    for a, b in pairs:
        if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.shape == b.shape \
                and not torch.equal(a.detach().nan_to_num(), b.detach().nan_to_num()):
            raise CheckFailed(f"{what} gave different results for the same input on two calls — the task is "
                              "deterministic: remove random draws (torch.rand, dropout) and hidden state between calls.")
    return first
