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


# Plain-text rendering of short LaTeX, for places that cannot typeset (a browser tab's title).
_SYMBOLS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π",
    "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω",
    "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ",
    "Omega": "Ω", "sum": "Σ", "prod": "Π", "nabla": "∇", "partial": "∂", "infty": "∞", "sqrt": "√",
    "cdot": "·", "times": "×", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠",
    "approx": "≈", "to": "→", "rightarrow": "→", "leftarrow": "←", "in": "∈", "mid": "|", "|": "‖",
    "ell": "ℓ", "top": "ᵀ", "log": "log", "exp": "exp", "min": "min", "max": "max",
}
_COMMAND = re.compile(r"\\([A-Za-z]+|\|)\s?")
_MATH = re.compile(r"\$([^$]+)\$")


def _plain_math(tex: str) -> str:
    text = _COMMAND.sub(lambda m: _SYMBOLS.get(m.group(1), ""), tex)  # \beta → β, \mathrm → ""
    return re.sub(r"[{}]", "", text).replace("\\", "")


def plain_text(markdown: str) -> str:
    """A one-line text without LaTeX or Markdown marks: `$\\beta$-VAE` → `β-VAE`, `**KL**` → `KL`."""
    parts = re.split(r"`([^`]*)`", markdown)  # odd parts: code, kept as written
    text = "".join(p if i % 2 else re.sub(r"\*\*|__|\*", "", _MATH.sub(lambda m: _plain_math(m.group(1)), p))
                   for i, p in enumerate(parts))
    return " ".join(text.split())
