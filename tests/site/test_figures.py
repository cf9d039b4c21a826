"""Figures are drawn from the reference code, sit on existing questions, and are redrawn when the code changes."""
from __future__ import annotations

import shutil

from _sitebuild import ROOT

from genprep.bank.loader import check_bank
from genprep.site import figures


def test_every_figure_belongs_to_a_question():
    bank, _ = check_bank(ROOT, check_code=False)
    names = [f.name for f in figures.FIGURES]
    assert len(names) == len(set(names))
    for fig in figures.FIGURES:
        assert fig.question in bank.questions, f"figure {fig.name} names no question {fig.question!r}"
        assert fig.caption.zh and fig.caption.en


def test_fingerprint_follows_the_reference_code(tmp_path):
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "a.py").write_text("x = 1\n", encoding="utf-8")
    before = figures.fingerprint(tmp_path)
    assert figures.fingerprint(tmp_path) == before
    (tmp_path / "solutions" / "a.py").write_text("x = 2\n", encoding="utf-8")
    assert figures.fingerprint(tmp_path) != before


def test_figures_are_on_their_pages(built_site):
    for fig in figures.FIGURES:
        png = built_site / "assets" / "figures" / f"{fig.name}.png"
        assert png.is_file() and png.stat().st_size > 5000, fig.name
        page = (built_site / "q" / fig.question / "index.html").read_text(encoding="utf-8")
        assert f"figures/{fig.name}.png" in page and fig.caption.zh[:10] in page


def test_a_stale_figure_is_redrawn(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "solutions", root / "solutions")
    calls = []
    fake = figures.Figure("probe", "q", figures.T("图", "figure"), lambda: calls.append(1) or _tiny_figure())
    monkeypatch.setattr(figures, "FIGURES", (fake,))
    cache = tmp_path / "cache"
    figures.render(root, {"q"}, cache)
    figures.render(root, {"q"}, cache)
    assert len(calls) == 1  # cached
    with open(root / "solutions" / "losses.py", "a", encoding="utf-8") as f:
        f.write("\n# a change\n")
    figures.render(root, {"q"}, cache)
    assert len(calls) == 2 and len(list(cache.glob("probe-*.png"))) == 1  # redrawn, old one removed


def _tiny_figure():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1])
    return fig
