"""The learner's language: Chinese, English or both, and messages that carry both.

Rule (the same for `pytest --solutions`, `genprep practice` and `genprep progress`):
the `--lang zh|en|both` option, else the environment variable GENPREP_LANG, else
the locale (the first of LC_ALL, LC_MESSAGES, LANG that is set: `zh…` → zh,
`en…` → en), else both. In `both`, Chinese comes first, then English.

A message that a task test gives the learner is written once in each language with
`say(en=..., zh=...)`; it is rendered in the language in force when it is shown, so
a module-level `HINT = say(...)` follows `--lang` like everything else. Plain strings
are still accepted wherever a `Msg` is, and shown as they are.

Torch-free: the CLI imports it.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

LANGS = ("zh", "en", "both")
ENV = "GENPREP_LANG"
LOCALE_VARS = ("LC_ALL", "LC_MESSAGES", "LANG")

_chosen: str | None = None  # set by the pytest plugin / CLI for the duration of a run


class LangError(ValueError):
    """An unknown language name; the message lists the valid ones."""


def check(value: str, source: str) -> str:
    lang = value.strip().lower()
    if lang not in LANGS:
        raise LangError(f"{source}={value!r} is not a language genprep speaks; use zh, en or both "
                        f"(zh = 中文, en = English, both = 中文 then English)")
    return lang


def resolve(option: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The language to use: `option`, else GENPREP_LANG, else the locale, else "both"."""
    env = os.environ if environ is None else environ
    if option:
        return check(option, "--lang")
    if env.get(ENV):
        return check(env[ENV], ENV)
    for var in LOCALE_VARS:
        value = env.get(var)
        if value:
            low = value.lower()
            if low.startswith("zh"):
                return "zh"
            if low.startswith("en"):
                return "en"
            return "both"  # the locale in force names another language (or C/POSIX)
    return "both"


def set_language(lang: str | None) -> str | None:
    """Fix the language for what follows (None: back to the environment); returns the previous setting."""
    global _chosen
    previous = _chosen
    _chosen = None if lang is None else check(lang, "language")
    return previous


def current() -> str:
    """The language in force: the one set with `set_language`, else what the environment says."""
    if _chosen is not None:
        return _chosen
    try:
        return resolve()
    except LangError:
        return "both"  # a bad GENPREP_LANG is reported by the command that reads it, not by every message


@dataclass(frozen=True)
class Msg:
    """One message in Chinese and English, rendered when shown (str(), f-strings, print)."""

    en: str
    zh: str

    def render(self, lang: str | None = None, sep: str = "\n") -> str:
        lang = lang or current()
        if lang == "zh":
            return self.zh
        if lang == "en" or self.zh == self.en:
            return self.en
        return f"{self.zh}{sep}{self.en}"

    def __str__(self) -> str:
        return self.render()

    def __format__(self, spec: str) -> str:
        return format(self.render(), spec)

    def __bool__(self) -> bool:
        return bool(self.en or self.zh)

    def __add__(self, other: object) -> Msg:
        """Msg + Msg joins each language's text; Msg + str is refused: the str has one language only."""
        if isinstance(other, Msg):
            return Msg(en=self.en + other.en, zh=self.zh + other.zh)
        raise TypeError(f"cannot join a Msg and a {type(other).__name__}: write both parts with say(en=..., zh=...), "
                        "or use msg.en and msg.zh inside each language's own string")

    def __radd__(self, other: object) -> Msg:
        if isinstance(other, Msg):  # pragma: no cover (Msg + Msg goes through __add__)
            return other.__add__(self)
        raise TypeError(f"cannot join a {type(other).__name__} and a Msg: write both parts with say(en=..., zh=...), "
                        "or use msg.en and msg.zh inside each language's own string")


Text = str | Msg  # what a check accepts as a message, a hint, a cause or the name of what is checked


def say(en: str, zh: str) -> Msg:
    """A learner-facing message in both languages: `say(en="Divide by √d.", zh="除以 √d。")`."""
    if not isinstance(en, str) or not isinstance(zh, str):
        raise TypeError("say(en=..., zh=...) takes two strings")
    return Msg(en=en, zh=zh)


def text(value: Text, lang: str | None = None, sep: str = "\n") -> str:
    """`value` in the language in force; a plain str is shown as it is."""
    return value.render(lang, sep) if isinstance(value, Msg) else str(value)


def part(value: Text, lang: str) -> str:
    """One language's part of `value` ("zh" or "en"); a plain str is the same in both."""
    if isinstance(value, Msg):
        return value.zh if lang == "zh" else value.en
    return str(value)


def tr(en: str, zh: str, lang: str | None = None, sep: str = "\n") -> str:
    """Shorthand for genprep's own messages: `tr("solved", "已解决")` in the language in force."""
    return Msg(en=en, zh=zh).render(lang, sep)


def label(en: str, zh: str, lang: str | None = None) -> str:
    """A short label: "已解决", "solved" or, in both, "已解决 · solved" on one line."""
    return Msg(en=en, zh=zh).render(lang, sep=" · ")


def width(s: str) -> int:
    """Columns `s` takes in a terminal: CJK (wide) characters take two."""
    import unicodedata
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def ljust(s: str, n: int) -> str:
    return s + " " * max(0, n - width(s))


def rjust(s: str, n: int) -> str:
    return " " * max(0, n - width(s)) + s
