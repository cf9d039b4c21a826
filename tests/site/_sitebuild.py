"""The checkout and its strict site build, for the site tests (a module of its own: two folders of tests
each have a conftest.py, so `from conftest import …` would depend on which one Python imported first)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def build(root: Path, out: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    # Not -q: MkDocs' quiet mode drops warnings before --strict can count them.
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)],
                          cwd=root, capture_output=True, text=True, env=env)
