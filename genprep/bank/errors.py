"""Errors the bank reports to contributors: file, line, field, what to fix."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One mistake in one file. `line` is 1-based; 0 means "the whole file"."""

    path: Path
    line: int
    field: str
    message: str

    def format(self, root: Path | None = None) -> str:
        shown = self.path
        if root is not None:
            try:
                shown = self.path.resolve().relative_to(root.resolve())
            except ValueError:
                pass
        where = f"{shown}:{self.line}" if self.line else f"{shown}"
        field = f" [{self.field}]" if self.field else ""
        return f"{where}:{field} {self.message}"


class BankError(Exception):
    """Raised when the bank cannot be loaded; carries every problem found."""

    def __init__(self, problems: list[Problem], root: Path | None = None):
        self.problems = problems
        self.root = root
        super().__init__(self.report())

    def report(self) -> str:
        lines = [p.format(self.root) for p in self.problems]
        noun = "problem" if len(lines) == 1 else "problems"
        return "\n".join(lines + [f"{len(lines)} {noun} found."])
