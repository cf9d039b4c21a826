"""Formatting for question files (used by pre-commit): strip trailing spaces,
end with exactly one newline, and put the schema modeline first. Rewrites the
files given on the command line; exit 1 if any changed, as formatters do."""
from __future__ import annotations

import sys
from pathlib import Path

MODELINE = "# yaml-language-server: $schema=../../schema/question.schema.json"


def tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    if not lines or lines[0] != MODELINE:
        lines.insert(0, MODELINE)
    return "\n".join(lines) + "\n"


def main(paths: list[str]) -> int:
    changed = 0
    for name in paths:
        path = Path(name)
        text = path.read_text(encoding="utf-8-sig")
        new = tidy(text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            print(f"tidied {name}")
            changed += 1
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
