"""Files the site offers for download, built alongside the pages.

The Anki deck is built by `genprep anki` (genprep/exports/anki.py) in a
separate process: the site may not import the exports (see
tests/core/test_architecture.py), and the deck builds while MkDocs renders
the pages. Without genanki the site still builds, and the practice page says
how to get the deck instead of linking to it.
"""
from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ANKI_FILE = "downloads/genprep-anki.apkg"
ANKI_MARKER = "<!-- genprep:anki -->"


def anki_available() -> bool:
    return importlib.util.find_spec("genanki") is not None and importlib.util.find_spec("markdown") is not None


def anki_section(available: bool, base: str = "") -> str:
    """What the practice page shows where ANKI_MARKER stands."""
    if available:
        # Raw HTML: MkDocs would otherwise check the link against the docs folder, where the deck is not.
        return (f'<p><a class="md-button gp-anki-download" href="{base}{ANKI_FILE}" download>'
                "下载 Anki 卡片组 · Download the Anki deck (.apkg)</a></p>\n\n"
                + _one_language("中英双语，每道概念题和公式题一张卡片；在 Anki 里用“文件 → 导入”，"
                                "再次导入会更新已有卡片而不会重复。",
                                "Both languages, one card per concept and formula question; import it in Anki "
                                "(File → Import) — importing a newer deck updates the same cards instead of "
                                "duplicating them."))
    return _one_language("本站构建时没有安装 genanki，所以这里没有现成的卡片组；在本仓库里运行 <code>genprep anki</code> "
                         "即可生成 <code>genprep.apkg</code>（先 <code>pip install -e '.[anki]'</code>）。",
                         "This copy of the site was built without genanki, so there is no deck to download here; run "
                         "<code>genprep anki</code> in a checkout to write <code>genprep.apkg</code> "
                         "(after <code>pip install -e '.[anki]'</code>).")


def _one_language(zh: str, en: str) -> str:
    """A paragraph in both languages, of which the site shows the reader's (lang.css)."""
    return f'<p><span class="gp-zh" lang="zh">{zh}</span><span class="gp-en" lang="en">{en}</span></p>\n'


class Background:
    """A command of this package running in another process while the site builds (the Anki deck, the
    figures missing from the cache); `finish` waits for it and stops the build with its output if it failed."""

    def __init__(self, command: list[str], what: str, hint: str = ""):
        self.what, self.hint = what, hint
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def finish(self, timeout: float = 600) -> None:
        try:
            output, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.close()
            raise SystemExit(f"genprep: {self.what} took more than {timeout:.0f} s and was stopped. {self.hint}") from None
        if self.proc.returncode != 0:
            raise SystemExit(f"genprep: {self.what} failed (exit status {self.proc.returncode}):\n"
                             f"{output.strip()[-3000:]}\n{self.hint}".rstrip())

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


class AnkiBuild:
    """`genprep anki` running in the background while the site builds."""

    def __init__(self, root: Path):
        self.dir = Path(tempfile.mkdtemp(prefix="genprep-anki-"))
        self.out = self.dir / "genprep.apkg"
        self.job = Background([sys.executable, "-m", "genprep", "anki", "--root", str(root), "--out", str(self.out)],
                              "building the site's Anki deck with `genprep anki`",
                              "Run `genprep anki` to see the problem, or uninstall genanki to build the site without "
                              "the deck.")

    def finish(self, site_dir: Path) -> Path:
        """Wait for the deck and copy it into the site; SystemExit with the command's output if it failed."""
        try:
            self.job.finish(timeout=300)
            if not self.out.is_file():
                raise SystemExit(f"genprep: `genprep anki` wrote no deck at {self.out}. {self.job.hint}")
            dest = site_dir / ANKI_FILE
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.out, dest)
            return dest
        finally:
            self.close()

    def close(self) -> None:
        self.job.close()
        shutil.rmtree(self.dir, ignore_errors=True)
