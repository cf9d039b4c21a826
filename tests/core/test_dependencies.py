"""The core works where only PyYAML is installed; missing optional parts say what to install."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_without(tmp_path: Path, blocked: list[str], code: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """Run Python code in a process where the `blocked` packages cannot be imported."""
    site = tmp_path / "blocker"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(
        "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in blocked), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True)


def test_validate_needs_only_pyyaml(tmp_path):
    heavy = ["torch", "mkdocs", "material", "matplotlib", "numpy", "hypothesis", "jieba", "genanki", "markdown"]
    result = run_without(tmp_path, heavy, "from genprep.cli import main; import sys; sys.exit(main(['validate']))")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok:")


def test_learner_mode_does_not_need_the_site(tmp_path, checkout):
    (checkout / "mine").mkdir()
    (checkout / "mine" / "good_task.py").write_text("def double(x):\n    return 2 * x\n", encoding="utf-8")
    code = ("import sys, pytest; sys.exit(pytest.main(['-q', '-p', 'genprep.learner.pytest_plugin', '-p', 'no:randomly', "
            "'-p', 'no:cacheprovider', '--solutions', 'mine', 'tests']))")
    result = run_without(tmp_path, ["mkdocs", "material", "matplotlib", "jieba", "genanki", "playwright"], code,
                         cwd=checkout)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "2 passed" in result.stdout


def test_missing_genanki_names_the_install(tmp_path, checkout):
    code = (f"from genprep.cli import main; import sys; "
            f"sys.exit(main(['anki', '--root', {str(checkout)!r}, '--out', {str(tmp_path / 'x.apkg')!r}]))")
    result = run_without(tmp_path, ["genanki"], code)
    assert result.returncode == 1 and "pip install -e '.[anki]'" in result.stderr


def test_missing_mathjax_names_the_install(tmp_path):
    code = "from genprep.site.mkdocs_hook import _mathjax_dir; _mathjax_dir()"
    result = run_without(tmp_path, ["mathjax"], code)
    assert result.returncode != 0 and "django-static-mathjax" in result.stderr


def test_missing_matplotlib_names_the_install(tmp_path):
    code = ("from pathlib import Path; from genprep.site.figures import render; "
            f"render(Path({str(ROOT)!r}), {{'kl-normal'}}, Path({str(tmp_path / 'cache')!r}))")
    result = run_without(tmp_path, ["matplotlib"], code)
    assert result.returncode != 0 and "pip install -e '.[site]'" in result.stderr
