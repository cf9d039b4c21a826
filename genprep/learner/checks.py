"""Assertions for task tests that explain failures in words a candidate understands.

Each check raises `CheckFailed` (an AssertionError) whose message says what
was called, what came back, what was expected, and the usual cause. The
pytest plugin prints that message on its own, without a wall of traceback.

Messages are bilingual: give a test's own words with `say(en=..., zh=...)`
wherever a message, a hint, a cause or the name of what is checked (`what`) is
accepted; they are shown in the learner's language (see genprep.learner.lang:
`--lang`, GENPREP_LANG, the locale, else both — Chinese first). A plain str is
still accepted and shown as it is.
"""
from __future__ import annotations

from typing import Any

import torch

from genprep.learner.lang import Msg, Text, current, part, say, text

__all__ = ["CheckFailed", "Msg", "expect", "expect_close", "expect_deterministic", "expect_scalar",
           "expect_tensor", "expect_unchanged", "say", "usual_cause"]


class CheckFailed(AssertionError):
    """A task test found a wrong result; the message is for the learner."""


def _fail(en: str, zh: str, hint: Text = "") -> CheckFailed:
    """The failure for a sentence given in both languages, followed by `hint` in the same language.

    In `both`, the Chinese sentence (with the Chinese hint) comes first, then the English one. A plain-str
    hint (not yet translated) is shown once, after the sentence(s).
    """
    if isinstance(hint, Msg):
        body = Msg(en=f"{en} {hint.en}".rstrip(), zh=f"{zh}{hint.zh}".rstrip())
        return CheckFailed(body.render())
    message = Msg(en=en, zh=zh).render()
    return CheckFailed(f"{message} {hint}".rstrip() if hint else message)


def _zh_subject(zh: str) -> str:
    """The Chinese name of what is checked, ready to be followed by a Chinese predicate: a space after code
    ("softmax(x) 有…"), none after Chinese ("注意力权重有…")."""
    return zh if zh and "\u4e00" <= zh[-1] <= "\u9fff" else f"{zh} "


def expect(condition: bool, message: Text) -> None:
    """`condition` holds; otherwise the learner reads `message` (best: `say(en=..., zh=...)`)."""
    if not condition:
        raise CheckFailed(text(message))


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def expect_tensor(value: Any, what: Text, *, shape: tuple | torch.Size | None = None,
                  dtype: torch.dtype | None = None) -> torch.Tensor:
    """`value` is a tensor of the given shape and dtype (when given)."""
    en, zh = part(what, "en"), part(what, "zh")
    if not isinstance(value, torch.Tensor):
        shown = f"{value!r:.200}"
        raise _fail(f"{en} should return a torch.Tensor, but returned {type(value).__name__}: {shown}",
                    f"{_zh_subject(zh)}应返回 torch.Tensor，实际返回的是 {type(value).__name__}：{shown}")
    if shape is not None and tuple(value.shape) != tuple(shape):
        got, want = tuple(value.shape), tuple(shape)
        raise _fail(f"{en} returned shape {got}, expected {want} — "
                    "check which dimensions you reduce, transpose or keep",
                    f"{_zh_subject(zh)}返回的形状是 {got}，应为 {want}——检查在哪些维度上做了归约、转置或保留")
    if dtype is not None and value.dtype != dtype:
        raise _fail(f"{en} returned dtype {value.dtype}, expected {dtype} — "
                    "keep the input's dtype (avoid .double(), python floats or integer tensors in the result)",
                    f"{_zh_subject(zh)}返回的 dtype 是 {value.dtype}，应为 {dtype}——保持输入的 dtype"
                    "（结果里不要用 .double()、Python 浮点数或整数张量）")
    if value.device.type != "cpu":
        raise _fail(f"{en} returned a tensor on {value.device}; keep results on the input's device (cpu)",
                    f"{_zh_subject(zh)}返回的张量在 {value.device} 上；结果应留在输入所在的设备（cpu）上")
    return value


def _matches(actual: torch.Tensor, other: Any, atol: float, rtol: float) -> bool:
    other = torch.as_tensor(other)
    if other.shape != actual.shape:
        return False
    a, o = actual.detach().to(torch.float64), other.detach().to(torch.float64)
    return bool(((a - o).abs() <= atol + rtol * o.abs()).all())


def _known_mistake(cause: Text) -> Text:
    """The hint for a result that equals what a known mistake gives."""
    if isinstance(cause, Msg):
        return say(en=f"Your result is exactly what a known mistake gives: {cause.en}",
                   zh=f"你的结果与一个常见错误的结果完全一致：{cause.zh}")
    # Older form (plain English): the cause completes the sentence, e.g. "unscaled scores give; divide by √d."
    return f"Your result is exactly what {cause}"


def usual_cause(actual: Any, likely: tuple[tuple[Any, Text], ...], default: Text = "", *, atol: float = 1e-5,
                rtol: float = 1e-4) -> Text:
    """The cause to tell for `actual`: the known mistake in `likely` whose result it equals, else `default`.

    For checks that are not an expect_close (a bound, a Monte Carlo estimate), so that they too name the
    mistake that produced the value: `expect(ok, say(en=f"... {usual_cause(got, likely, HINT).en}", ...))`
    — or simply pass the returned Msg as a hint-like part of a message.
    """
    if isinstance(actual, torch.Tensor) or isinstance(actual, (int, float)):
        value = torch.as_tensor(actual)
        for result, cause in likely:
            if _matches(value.to(torch.as_tensor(result).dtype), result, atol, rtol):
                return _known_mistake(cause)
    return default


def expect_close(actual: Any, expected: torch.Tensor, what: Text, *, atol: float = 1e-5,
                 rtol: float = 1e-4, hint: Text = "", check_dtype: bool = True,
                 likely: tuple[tuple[Any, Text], ...] = ()) -> None:
    """`actual` matches `expected` elementwise within |a − e| ≤ atol + rtol·|e|.

    Shape (and dtype unless `check_dtype=False`) are checked first; NaN/inf in
    `actual` where `expected` is finite is reported as such. `likely` pairs the
    result of a known mistake (computed by the test on the same inputs) with its
    cause, `say(en=..., zh=...)`: when `actual` equals one of them, that cause
    replaces `hint` (the usual cause of a failure of this check).
    """
    if likely and isinstance(actual, torch.Tensor):
        e = torch.as_tensor(expected)
        if not _matches(actual, e, atol, rtol):
            for result, cause in likely:
                if _matches(actual, result, atol, rtol):
                    hint = _known_mistake(cause)
                    break
    expected = torch.as_tensor(expected)
    actual = expect_tensor(actual, what, shape=expected.shape,
                           dtype=expected.dtype if check_dtype else None)
    en, zh = part(what, "en"), part(what, "zh")
    a = actual.detach().to(torch.float64)
    e = expected.detach().to(torch.float64)
    bad_nonfinite = ~torch.isfinite(a) & torch.isfinite(e)
    if bad_nonfinite.any():
        idx = tuple(int(i) for i in bad_nonfinite.nonzero()[0])
        got, want = a[idx].item(), _fmt(e[idx].item())
        raise _fail(f"{en} contains {got} at index {idx} where {want} was expected — "
                    f"an overflow or a log/division of 0?",
                    f"{_zh_subject(zh)}在索引 {idx} 处是 {got}，应为 {want}——是数值溢出，还是对 0 取了对数或除以了 0？", hint)
    both_inf = ~torch.isfinite(e)
    diff = (a - e).abs()
    diff = torch.where(both_inf & (a == e), torch.zeros_like(diff), diff)
    allowed = atol + rtol * e.abs().nan_to_num(posinf=0.0, neginf=0.0)
    bad = (diff > allowed) | diff.isnan()
    if bad.any():
        excess = torch.where(bad, (diff - allowed).nan_to_num(nan=float("inf")), torch.full_like(diff, -1.0))
        flat = int(excess.reshape(-1).argmax())
        idx = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), diff.shape)) if diff.dim() else ()
        n_bad, n = int(bad.sum()), diff.numel()
        got, want = _fmt(a[idx].item()), _fmt(e[idx].item())
        raise _fail(f"{en} is wrong at {n_bad} of {n} entries; worst at index {idx}: "
                    f"got {got}, expected {want} (tolerance {atol:g} + {rtol:g}·|expected|).",
                    f"{_zh_subject(zh)}有 {n_bad}/{n} 个元素不对；偏差最大处在索引 {idx}："
                    f"得到 {got}，应为 {want}（容差 {atol:g} + {rtol:g}·|应为值|）。", hint)


def expect_scalar(actual: Any, expected: float | torch.Tensor, what: Text, *, atol: float = 1e-5,
                  rtol: float = 1e-4, hint: Text = "", dtype: torch.dtype | None = torch.float32,
                  likely: tuple[tuple[Any, Text], ...] = ()) -> None:
    """A 0-dim tensor (e.g. a loss) close to `expected`."""
    exp = torch.as_tensor(expected, dtype=dtype or torch.float32)
    if isinstance(actual, torch.Tensor) and actual.dim() != 0:
        shape = tuple(actual.shape)
        raise _fail(f"{part(what, 'en')} should be a 0-dim tensor (a single number, e.g. from .mean()), "
                    f"but has shape {shape} — did you forget to reduce over the batch?",
                    f"{_zh_subject(part(what, 'zh'))}应是 0 维张量（一个数，例如 .mean() 的结果），但形状是 {shape}"
                    "——是不是忘了在 batch 维上做归约？")
    expect_close(actual, exp.reshape(()), what, atol=atol, rtol=rtol, hint=hint, check_dtype=dtype is not None,
                 likely=tuple((torch.as_tensor(r).reshape(()), c) for r, c in likely))


def expect_unchanged(before: torch.Tensor, after: torch.Tensor, what: Text) -> None:
    """An input the function must not modify in place."""
    if not torch.equal(before, after):
        raise _fail(f"{part(what, 'en')} was modified in place; do not write into your inputs "
                    "(use out-of-place ops like x - m instead of x.sub_(m))",
                    f"{_zh_subject(part(what, 'zh'))}被原地修改了；不要写入你的输入"
                    "（用 x - m 这样的非原地运算，不要用 x.sub_(m)）")


def expect_deterministic(fn, *args, what: Text, **kwargs) -> Any:
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
            raise _fail(f"{part(what, 'en')} gave different results for the same input on two calls — the task is "
                        "deterministic: remove random draws (torch.rand, dropout) and hidden state between calls.",
                        f"{_zh_subject(part(what, 'zh'))}对同一输入调用两次，结果却不同——这个任务是确定性的："
                        "去掉随机采样（torch.rand、dropout）以及在两次调用之间保留的隐藏状态。")
    return first


def language() -> str:
    """The language failures are shown in now ("zh", "en" or "both"), for tests that build their own text."""
    return current()
