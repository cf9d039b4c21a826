"""Packaging hook: the wheel carries the bank (questions, references, task tests,
known-wrong variants) as genprep/_bank, so `genprep` works outside a checkout.
All other metadata is in pyproject.toml."""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

BANK_PARTS = ("questions", "solutions", "tests/tasks", "tests/wrong", "schema")


class BuildPyWithBank(build_py):
    def run(self):
        super().run()
        here = Path(__file__).resolve().parent
        target = Path(self.build_lib) / "genprep" / "_bank"
        if target.exists():
            shutil.rmtree(target)
        for part in BANK_PARTS:
            src = here / part
            if src.is_dir():
                shutil.copytree(src, target / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            elif src.is_file():
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy(src, target / part)


setup(cmdclass={"build_py": BuildPyWithBank})
