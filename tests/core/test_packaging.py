"""The wheel carries the bank: `genprep` works from a folder that is not a checkout."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def unpacked_wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", str(ROOT), "--no-deps",
                             "--no-build-isolation", "-w", str(out)], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot build a wheel here (setuptools missing?): {result.stderr[-300:]}")
    (wheel,) = out.glob("genprep-*.whl")
    target = out / "site-packages"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(target)
    return target


def test_wheel_holds_the_bank_but_no_top_level_solutions_package(unpacked_wheel):
    bank = unpacked_wheel / "genprep" / "_bank"
    assert (bank / "questions" / "topics.yaml").is_file()
    assert (bank / "solutions" / "losses.py").is_file()
    assert (bank / "tests" / "tasks" / "test_stable_softmax.py").is_file()
    assert not (unpacked_wheel / "solutions").exists()


def test_commands_work_outside_a_checkout(unpacked_wheel, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(unpacked_wheel)}

    def genprep(*args):
        return subprocess.run([sys.executable, "-m", "genprep", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True)

    listed = genprep("list", "--type", "coding")
    assert listed.returncode == 0 and "stable-softmax" in listed.stdout, listed.stderr
    where = subprocess.run([sys.executable, "-c", "import genprep; print(genprep.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True).stdout
    assert where.startswith(str(unpacked_wheel)), f"the test imported genprep from {where}, not the wheel"
    practice = genprep("practice", "stable-softmax")
    assert practice.returncode == 0, practice.stderr
    assert (tmp_path / "my_solutions" / "stable_softmax.py").is_file()
    version = genprep("--version")
    assert version.stdout.strip().startswith("genprep ")
