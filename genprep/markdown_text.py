"""Small normalizations of question Markdown before it is rendered anywhere.

Python-Markdown (the site, the Anki export) only starts a list after a blank
line, while most editors and GitHub do not need one; contributors write

    **Sources**:
    1. data ...

and expect a list. `normalize` inserts the blank line, outside code fences.
"""
from __future__ import annotations

import re

_ITEM = re.compile(r"^\s{0,3}([-*+]|\d+[.)])\s+\S")
_FENCE = re.compile(r"^\s*(```|~~~)")


def normalize(text: str) -> str:
    out: list[str] = []
    in_fence = False
    prev = ""
    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and _ITEM.match(line) and prev.strip() and not _ITEM.match(prev) \
                and not prev.startswith((" ", "\t")):
            out.append("")
        out.append(line)
        prev = line
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")
