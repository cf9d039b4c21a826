"""`genprep progress`: where a learner stands, per topic.

Runs the task tests in learner mode (pytest's own progress line shows how far
it got), keeps the outcome in <solutions>/.genprep-last-run.json, and prints
a table: solved, failing, not attempted (untouched stub), not started (no
file). `--last` only reads the last run. Nothing leaves the machine.
Labels and messages follow the learner's language (genprep.learner.lang); the
stored report keeps the English status names.
"""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from genprep.bank import layout
from genprep.bank.model import Bank
from genprep.learner import lang as _lang
from genprep.learner.lang import ljust, rjust, tr

REPORT_NAME = ".genprep-last-run.json"
STATUSES = ("solved", "failing", "not attempted", "not started")
STATUS_ZH = {"solved": "已解决", "failing": "未通过", "not attempted": "未作答", "not started": "未开始"}


class ProgressError(Exception):
    pass


def run_tests(bank: Bank, folder: Path, quiet: bool = False, lang: str | None = None) -> dict:
    missing = [m for m in ("pytest", "torch", "hypothesis") if importlib.util.find_spec(m) is None]
    if missing:
        raise ProgressError(tr(f"genprep progress runs your tests, which need {', '.join(missing)}: "
                               f"{layout.install_hint('test')}",
                               f"genprep progress 要运行你的测试，需要 {', '.join(missing)}：{layout.install_hint('test')}"))
    report = folder / REPORT_NAME
    tasks = [t for t in sorted(bank.tasks) if layout.learner_file(folder, t).is_file()]
    if tasks:
        files = [str(layout.test_file(bank.root, t).relative_to(bank.root)) for t in tasks]
        cmd = [sys.executable, "-m", "pytest", "-q", "--no-header",
               "-p", "genprep.learner.pytest_plugin", "-p", "no:randomly", "--tb=no",
               "--solutions", str(folder.resolve()), "--genprep-report", str(report.resolve()),
               "--lang", lang or _lang.current(), *files]
        proc = subprocess.run(cmd, cwd=bank.root, stdout=subprocess.DEVNULL if quiet else None)
        if proc.returncode not in (0, 1) or not report.is_file():
            raise ProgressError(tr(f"pytest could not run the tests (exit {proc.returncode}); run "
                                   f"`pytest --solutions {folder}` to see why",
                                   f"pytest 没能运行测试（退出码 {proc.returncode}）；运行 "
                                   f"`pytest --solutions {folder}` 查看原因"))
    else:
        report.write_text(json.dumps({"tasks": {}}), encoding="utf-8")
    return json.loads(report.read_text(encoding="utf-8"))


def read_last(folder: Path) -> dict:
    report = folder / REPORT_NAME
    if not report.is_file():
        raise ProgressError(tr(f"no earlier run in {folder}; run `genprep progress` without --last",
                               f"{folder} 里没有上一次运行的记录；去掉 --last 运行 `genprep progress`"))
    return json.loads(report.read_text(encoding="utf-8"))


def statuses(bank: Bank, folder: Path, report: dict) -> dict[str, str]:
    out = {}
    for task in bank.tasks:
        if not layout.learner_file(folder, task).is_file():
            out[task] = "not started"
        else:
            status = report.get("tasks", {}).get(task, {}).get("status", "not started")
            out[task] = "failing" if status == "timed out" else status
    return out


COLUMNS = (("topic", "主题", 26), ("solved", "已解决", 7), ("failing", "未通过", 8),
           ("not attempted", "未作答", 14), ("not started", "未开始", 12))


def table(bank: Bank, status: dict[str, str], verbose: bool = False, lang: str | None = None) -> str:
    """Counts per topic; in `both` the header is two lines (中文 over English) and labels read "中文 English"."""
    lang = lang or _lang.current()
    langs = ("zh", "en") if lang == "both" else (lang,)

    def head(which: str) -> str:
        cells = [(en if which == "en" else zh, w) for en, zh, w in COLUMNS]
        return ljust(cells[0][0], cells[0][1]) + "".join(" " + rjust(c, w) for c, w in cells[1:])

    heads = [head(which) for which in langs]
    rule = "-" * max(_lang.width(h) for h in heads)
    lines = [*heads, rule]
    totals = dict.fromkeys(STATUSES, 0)
    named = {s: " ".join(STATUS_ZH[s] if which == "zh" else s for which in langs) for s in STATUSES}
    name_width = max(_lang.width(n) for n in named.values()) + 2
    for topic in bank.topics:
        tasks = sorted(t for t, q in bank.tasks.items() if q.topic == topic.id)
        if not tasks:
            continue
        counts = {s: sum(status[t] == s for t in tasks) for s in STATUSES}
        for s in STATUSES:
            totals[s] += counts[s]
        bar = "".join("█" if status[t] == "solved" else "▒" if status[t] in ("failing", "not attempted") else "·"
                      for t in tasks)
        lines.append(_row(topic.id, counts) + f"  {bar}")
        if verbose:
            lines += [f"    {ljust(named[status[t]], name_width)}{t}" for t in tasks]
    lines.append(rule)
    lines.append(_row(" ".join("合计" if which == "zh" else "total" for which in langs), totals))
    return "\n".join(lines)


def _row(name: str, counts: dict[str, int]) -> str:
    return ljust(name, COLUMNS[0][2]) + "".join(f" {counts[s]:>{w}}" for s, (_, _, w) in zip(STATUSES, COLUMNS[1:]))
