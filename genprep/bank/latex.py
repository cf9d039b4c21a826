"""Cheap structural checks on LaTeX, so a broken formula fails `validate`
instead of showing up as raw source on the site.

Not a TeX parser: it catches what breaks rendering in practice — unbalanced
braces, \\left without \\right, \\begin/\\end mismatches, stray `$` — and
commands MathJax does not know.
"""
from __future__ import annotations

import re

_ENV = re.compile(r"\\(begin|end)\{([^}]*)\}")
_COMMAND = re.compile(r"\\([A-Za-z]+)")
_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE = re.compile(r"(?<![\\$])\$(?!\$)(.+?)(?<![\\$])\$(?!\$)", re.S)
_CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)
_ESCAPED = re.compile(r"\\.", re.S)
_BRACE = re.compile(r"[{}]")
_LEFT = re.compile(r"\\left(?![a-zA-Z])")
_RIGHT = re.compile(r"\\right(?![a-zA-Z])")
_DOLLAR = re.compile(r"(?<!\\)\$")
_PARAGRAPH = re.compile(r"\n[ \t]*\n")

# Commands authors mistype most; MathJax renders them as red error text.
_NOT_MATHJAX = {"dfracc", "mathbbm", "bm", "textsc", "newcommand", "def", "usepackage"}


def problems(tex: str, display: bool = True) -> list[str]:
    """Problems in one formula (without the surrounding $ delimiters)."""
    out: list[str] = []
    depth = 0
    for brace in _BRACE.findall(_ESCAPED.sub("", tex)):  # \{ and \} are literal braces
        depth += 1 if brace == "{" else -1
        if depth < 0:
            out.append("formula has a '}' without a matching '{'")
            break
    if depth > 0:
        out.append(f"formula has {depth} unclosed '{{'")
    lefts = len(_LEFT.findall(tex))
    rights = len(_RIGHT.findall(tex))
    if lefts != rights:
        out.append(f"formula has {lefts} \\left but {rights} \\right; they must pair up")
    stack: list[str] = []
    for kind, name in _ENV.findall(tex):
        if kind == "begin":
            stack.append(name)
        elif not stack or stack.pop() != name:
            out.append(f"\\end{{{name}}} does not close the environment that was opened")
            break
    else:
        if stack:
            out.append(f"\\begin{{{stack[-1]}}} is never closed with \\end{{{stack[-1]}}}")
    if _DOLLAR.search(tex):
        out.append("formula contains '$'; write the formula without $ delimiters")
    unknown = sorted(set(_COMMAND.findall(tex)) & _NOT_MATHJAX)
    if unknown:
        out.append(f"uses commands the site cannot render: {', '.join(chr(92) + u for u in unknown)}")
    return out


def markdown_problems(markdown: str) -> list[str]:
    """Problems in the LaTeX embedded in a Markdown answer."""
    text = _CODE.sub("", markdown)
    if text.count("$$") % 2:
        return ["has an odd number of '$$'; every display formula needs an opening and a closing $$"]
    out: list[str] = []
    for match in _DISPLAY.finditer(text):
        out += [f"in $${match.group(1).strip()[:40]}…$$: {p}" for p in problems(match.group(1))]
    rest = _DISPLAY.sub("", text)
    for paragraph in _PARAGRAPH.split(rest):
        if len(_DOLLAR.findall(paragraph)) % 2:
            first = paragraph.strip().splitlines()[0] if paragraph.strip() else ""
            out.append(f"has a '$' that opens or closes no formula in the paragraph starting {first[:50]!r}; "
                       "pair every $…$ (a formula cannot span paragraphs), or write \\$ for a dollar sign")
    for match in _INLINE.finditer(rest):
        out += [f"in ${match.group(1).strip()[:40]}$: {p}" for p in problems(match.group(1), display=False)]
    return out
