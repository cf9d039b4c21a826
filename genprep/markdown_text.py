r"""Small normalizations of question Markdown before it is rendered anywhere.

Python-Markdown (the site, the Anki export) is stricter than the editors
contributors preview in:

- a list only starts after a blank line ("**Sources**:\n1. data" is a list
  on GitHub, one paragraph here);
- a `$$ … $$` display formula is only recognized as its own block, with blank
  lines around it; inside a paragraph or a list item it falls apart into
  stray `$` signs.

`normalize` fixes both, outside code fences: it inserts the blank line before
a list; it surrounds a top-level display formula with blank lines; and an
indented one (inside a list item, where a blank line would end the item) it
turns into a display-style formula on its own line: `$\displaystyle …$`
between hard line breaks.
"""
from __future__ import annotations

import re

_ITEM = re.compile(r"^\s{0,3}([-*+]|\d+[.)])\s+\S")
_FENCE = re.compile(r"^\s*(```|~~~)")


def _lists(lines: list[str]) -> list[str]:
    out: list[str] = []
    in_fence = False
    prev = ""
    for line in lines:
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and _ITEM.match(line) and prev.strip() and not _ITEM.match(prev) \
                and not prev.startswith((" ", "\t")):
            out.append("")
        out.append(line)
        prev = line
    return out


def _display_math(lines: list[str]) -> list[str]:
    out: list[str] = []
    i, in_fence = 0, False
    while i < len(lines):
        line = lines[i]
        if _FENCE.match(line):
            in_fence = not in_fence
        stripped = line.strip()
        if in_fence or not stripped.startswith("$$"):
            out.append(line)
            i += 1
            continue
        # find the closing $$ (same line for a one-line formula)
        end = i if (len(stripped) > 4 and stripped.endswith("$$")) else next(
            (j for j in range(i + 1, len(lines)) if lines[j].strip().endswith("$$")), None)
        if end is None:
            out.append(line)
            i += 1
            continue
        block = lines[i:end + 1]
        before = out[-1].strip() if out else ""
        after = lines[end + 1].strip() if end + 1 < len(lines) else ""
        indent = line[: len(line) - len(line.lstrip())]
        if not before and not after:
            out += block  # already a block of its own
        elif not indent:
            out += ([""] if before else []) + block + ([""] if after else [])
        else:
            body = " ".join(b.strip() for b in block).strip()[2:-2].strip()
            if out and before:
                out[-1] = out[-1].rstrip() + "  "  # hard line break before the formula
            out.append(f"{indent}$\\displaystyle {body}$" + ("  " if after else ""))
        i = end + 1
    return out


def normalize(text: str) -> str:
    lines = _display_math(_lists(text.splitlines()))
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")
