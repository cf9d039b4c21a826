"""Where things live in a checkout, derived from a task id alone."""
from __future__ import annotations

from pathlib import Path


def module_name(task_id: str) -> str:
    """`scaled-dot-product-attention` -> `scaled_dot_product_attention`."""
    return task_id.replace("-", "_")


def learner_file(solutions_dir: Path, task_id: str) -> Path:
    return solutions_dir / f"{module_name(task_id)}.py"


def test_file(root: Path, task_id: str) -> Path:
    return root / "tests" / "tasks" / f"test_{module_name(task_id)}.py"


def wrong_dir(root: Path, task_id: str) -> Path:
    return root / "tests" / "wrong" / module_name(task_id)


def wrong_variants(root: Path, task_id: str) -> list[Path]:
    folder = wrong_dir(root, task_id)
    return sorted(p for p in folder.glob("*.py") if not p.name.startswith("_")) if folder.is_dir() else []


def wrong_variant_file(root: Path, ref: str) -> Path:
    """`kl-normal/logvar-not-exp` -> tests/wrong/kl_normal/logvar_not_exp.py."""
    task_id, _, variant = ref.partition("/")
    return wrong_dir(root, task_id) / f"{module_name(variant)}.py"


def reference_file(root: Path, module: str) -> Path:
    return root / "solutions" / f"{module}.py"


def install_hint(extra: str) -> str:
    """The command that installs one of genprep's extras (test, site, anki, …), as this genprep was installed:
    from a source checkout (editable) or from the package index."""
    source = Path(__file__).resolve().parents[2]  # the checkout, if any
    if (source / "pyproject.toml").is_file() and (source / "questions" / "topics.yaml").is_file():
        return f"pip install -e '{source}[{extra}]'" if Path.cwd().resolve() != source else f"pip install -e '.[{extra}]'"
    return f"pip install 'genprep[{extra}]'"


def find_root(start: Path | None = None, installed: bool = False) -> Path | None:
    """The checkout (a folder with questions/topics.yaml) at or above `start`.

    With `installed`, fall back to the bank this genprep was installed with
    (the wheel's genprep/_bank, or the source tree of an editable install), so
    browsing and practising work outside a checkout.
    """
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "questions" / "topics.yaml").is_file():
            return folder
    if installed:
        package = Path(__file__).resolve().parents[1]  # genprep/
        for folder in (package / "_bank", package.parent):
            if (folder / "questions" / "topics.yaml").is_file():
                return folder
    return None
