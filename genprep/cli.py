"""The `genprep` command: a thin shell over the core, the plugin helpers and the site generator."""
from __future__ import annotations

import argparse
import os
import sys
import textwrap
from pathlib import Path

from genprep import __version__
from genprep.bank import layout
from genprep.bank.errors import BankError


def _root(arg: str | None, installed: bool = False) -> Path:
    if arg:
        return Path(arg)
    found = layout.find_root(installed=installed)
    if found is None:
        raise SystemExit("genprep: no questions/topics.yaml here or above; run inside a genprep checkout "
                         "or pass the folder (e.g. genprep validate path/to/genprep)")
    return found


def _bank(args):
    """The bank for browsing commands: questions with problems are left out, with a warning."""
    from genprep.bank.loader import check_bank
    root = _root(getattr(args, "root", None), installed=True)
    bank, problems = check_bank(root, check_code=False)
    if bank is None:
        raise SystemExit(f"genprep: {BankError(problems, root).report()}")
    if problems:
        print(f"genprep: warning: {len(problems)} problem(s) in the bank; run `genprep validate` to see them",
              file=sys.stderr)
    return bank


def cmd_validate(args) -> int:
    from genprep.bank.loader import check_bank
    root = _root(args.dir)
    bank, problems = check_bank(root)
    if problems:
        print(BankError(problems, root).report(), file=sys.stderr)
        return 1
    assert bank is not None
    n = len(bank.questions)
    kinds = {t: sum(q.type == t for q in bank.questions.values()) for t in ("concept", "formula", "coding")}
    print(f"ok: {n} questions ({', '.join(f'{v} {k}' for k, v in kinds.items())}) in {len(bank.topics)} topics")
    return 0


def cmd_list(args) -> int:
    bank = _bank(args)
    rows = [q for q in bank.questions.values()
            if (not args.topic or q.topic == args.topic) and (not args.type or q.type == args.type)
            and (not args.difficulty or q.difficulty == args.difficulty) and (not args.tag or args.tag in q.tags)]
    if args.topic and args.topic not in {t.id for t in bank.topics}:
        print(f"genprep: no topic {args.topic!r}; topics: {', '.join(t.id for t in bank.topics)}", file=sys.stderr)
        return 2
    order = {t.id: i for i, t in enumerate(bank.topics)}
    rows.sort(key=lambda q: (order[q.topic], {"easy": 0, "medium": 1, "hard": 2}[q.difficulty], q.id))
    for q in rows:
        print(f"{q.id:<40} {q.topic:<18} {q.type:<8} {q.difficulty:<7} {q.title.get(args.lang)}")
    print(f"({len(rows)} questions)", file=sys.stderr)
    return 0


def cmd_plan(args) -> int:
    """The syllabus as a study plan: each area and subject with the questions that teach it."""
    bank = _bank(args)
    if not bank.syllabus:
        print("genprep: this bank has no questions/syllabus.yaml", file=sys.stderr)
        return 2
    lang = args.lang
    for n, area in enumerate(bank.syllabus, 1):
        taught = {q.id for s in area.subjects for q in bank.teaching(s.id)}
        print(f"\n{n}. {area.title.get(lang)}  ({len(taught)})")
        for subject in area.subjects:
            qs = bank.teaching(subject.id)
            levels = "/".join(str(sum(q.difficulty == d for q in qs)) for d in ("easy", "medium", "hard"))
            label = "易/中/难" if lang == "zh" else "easy/medium/hard"
            print(f"   {subject.title.get(lang):<40} {len(qs):>3}  ({label} {levels})")
            if args.questions:
                for q in qs:
                    print(f"      {q.id:<44} {q.difficulty:<7} {q.title.get(lang)}")
    return 0


def cmd_show(args) -> int:
    bank = _bank(args)
    q = bank.questions.get(args.id)
    if q is None:
        close = [i for i in bank.questions if args.id in i][:8]
        hint = f" Similar ids: {', '.join(close)}." if close else " See `genprep list`."
        print(f"genprep: no question {args.id!r}.{hint}", file=sys.stderr)
        return 2
    langs = ("zh", "en") if args.lang == "both" else (args.lang,)
    heads = {"zh": ("答案", "常见错误", "提示", "相关", "参考文献", "练习", "追问"),
             "en": ("Answer", "Pitfalls", "Hints", "Related", "References", "Practice", "Follow-ups")}
    print(f"{q.id}  [{q.type} · {q.topic} · {q.difficulty}]  tags: {', '.join(q.tags) or '-'}")
    for lang in langs:
        h = heads[lang]
        print(f"\n# {q.title.get(lang)}\n")
        if q.formula:
            print(f"    {q.formula}\n")
        print(f"## {h[0]}\n\n{q.answer.get(lang)}\n")
        if q.pitfalls:
            print(f"## {h[1]}\n")
            for p in q.pitfalls:
                print(textwrap.fill(p.text.get(lang), 100, initial_indent="- ", subsequent_indent="  "))
            print()
        if q.hints:
            print(f"## {h[2]}\n")
            for i, hint in enumerate(q.hints, 1):
                print(f"{i}. {hint.get(lang)}")
            print()
        if q.follow_ups:
            print(f"## {h[6]}\n")
            for i, fu in enumerate(q.follow_ups, 1):
                print(f"{i}. {fu.question.get(lang)}")
                print(textwrap.fill(fu.answer.get(lang), 100, initial_indent="   ", subsequent_indent="   "))
                if fu.see:
                    print(f"   → {fu.see}")
            print()
    if q.task:
        print(f"{heads[langs[0]][5]}: genprep practice {q.task}  →  pytest --solutions my_solutions -k {layout.module_name(q.task)}")
    if q.related:
        print(f"{heads[langs[0]][3]}: {', '.join(q.related)}")
    for r in q.references:
        print(f"- {r.authors} ({r.year}). {r.title}. {r.locator}")
    return 0


def _learner_lang(args) -> str | None:
    """Fix the learner's language for this command (--lang > GENPREP_LANG > locale > both); None if invalid."""
    from genprep.learner import lang
    try:
        chosen = lang.resolve(args.lang)
    except lang.LangError as exc:
        print(f"genprep: {exc}", file=sys.stderr)
        return None
    lang.set_language(chosen)
    return chosen


def cmd_practice(args) -> int:
    from genprep.learner import lang
    previous = lang.set_language(None)
    try:
        return _cmd_practice(args)
    finally:
        lang.set_language(previous)


def _cmd_practice(args) -> int:
    from genprep.learner.lang import tr
    from genprep.learner.practice import PracticeError, write_stub
    chosen = _learner_lang(args)
    if chosen is None:
        return 2
    bank = _bank(args)
    try:
        path = write_stub(bank, args.task, Path(args.dir), lang=chosen)
    except PracticeError as exc:
        print(f"genprep: {exc}", file=sys.stderr)
        return 1
    check = f"pytest --solutions {args.dir} -k {layout.module_name(args.task)}"
    print(tr(f"wrote {path}\nedit it, then run:  {check}", f"已写入 {path}\n编辑它，然后运行：  {check}"))
    return 0


def cmd_new(args) -> int:
    from genprep.bank.scaffold import ScaffoldError, scaffold
    root = _root(args.root)
    try:
        path = scaffold(root, args)
    except ScaffoldError as exc:
        print(f"genprep: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {path.relative_to(root)} — fill in the answer, then run `genprep validate`")
    return 0


def cmd_pages(args) -> int:
    from .site.generate import write_pages
    bank = _bank(args)
    out = Path(args.out)
    n = write_pages(bank, out)
    print(f"wrote {n} pages to {out}")
    return 0


def _shorten(text: str, limit: int = 240) -> str:
    """One line of at most about `limit` characters, cut after a word, never inside a number."""
    line = text.splitlines()[0] if text else ""
    if len(line) <= limit:
        return line
    cut = line.rfind(" ", 0, limit)
    return line[:cut if cut > 0 else limit].rstrip(" ,;:—") + " …"


def cmd_check_tests(args) -> int:
    from genprep.learner.verify import VerifyError, verify
    bank = _bank(args)
    tasks = args.task or None
    unknown = [t for t in tasks or [] if t not in bank.tasks]
    if unknown:
        print(f"genprep: unknown task(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    n_tasks = len(tasks or bank.tasks)
    print(f"genprep: running the tests of {n_tasks} task{'s' * (n_tasks != 1)} against every untouched stub and "
          f"known-wrong variant ({os.cpu_count() or 1} at a time)", flush=True)
    try:
        verdicts = verify(bank, tasks, timeout=args.timeout, progress=lambda line: print(line, flush=True))
    except VerifyError as exc:
        print(f"genprep: {exc}\nRun `pytest --solutions <folder>` to see the error in full.", file=sys.stderr)
        return 1
    bad = [v for v in verdicts if not v.ok]
    for v in verdicts:
        if args.verbose or not v.ok:
            print(f"{'ok ' if v.ok else 'BAD'} {v.task:<32} {v.candidate:<34} {_shorten(v.detail)}")
    n_var = sum(v.candidate != "stub" for v in verdicts)
    n_tasks = len({v.task for v in verdicts})
    print(f"{len(verdicts) - len(bad)} of {len(verdicts)} rejected as they must be "
          f"({n_tasks} task{'s' * (n_tasks != 1)}: stubs and {n_var} known-wrong variant{'s' * (n_var != 1)})")
    return 1 if bad else 0


def cmd_anki(args) -> int:
    from genprep.exports.anki import AnkiError, build_deck
    bank = _bank(args)
    try:
        n = build_deck(bank, Path(args.out), args.lang, args.topic, args.tag, args.difficulty)
    except AnkiError as exc:
        print(f"genprep: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}: {n} notes; import it in Anki (File → Import); re-importing updates the same notes")
    return 0


def cmd_progress(args) -> int:
    from genprep.learner import lang
    previous = lang.set_language(None)
    try:
        return _cmd_progress(args)
    finally:
        lang.set_language(previous)


def _cmd_progress(args) -> int:
    from genprep.learner.lang import tr
    from genprep.learner.progress import ProgressError, read_last, run_tests, statuses, table
    chosen = _learner_lang(args)
    if chosen is None:
        return 2
    bank = _bank(args)
    folder = Path(args.solutions)
    if not folder.is_dir():
        print("genprep: " + tr(f"no folder {folder}; start a task with `genprep practice <task-id>`",
                               f"没有文件夹 {folder}；用 `genprep practice <任务 id>` 开始一个任务"), file=sys.stderr)
        return 1
    try:
        report = read_last(folder) if args.last else run_tests(bank, folder, lang=chosen)
    except ProgressError as exc:
        print(f"genprep: {exc}", file=sys.stderr)
        return 1
    print(table(bank, statuses(bank, folder, report), verbose=args.verbose, lang=chosen))
    return 0


def cmd_schema(args) -> int:
    from genprep.exports.jsonschema import SCHEMA_PATH, schema_text
    root = _root(args.root)
    path = root / SCHEMA_PATH
    text = schema_text()
    if args.check:
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            print(f"genprep: {SCHEMA_PATH} is out of date with genprep/bank/schema.py; run `genprep schema`", file=sys.stderr)
            return 1
        print(f"ok: {SCHEMA_PATH} matches genprep/bank/schema.py")
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {SCHEMA_PATH}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="genprep", description="Bilingual generative-AI interview bank: "
                                "validate questions, browse them, practise coding tasks.")
    p.add_argument("--version", action="version", version=f"genprep {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("validate", help="check every question file; list every problem (exit 1 if any)")
    s.add_argument("dir", nargs="?", help="the checkout to validate (default: the one around the current folder)")
    s.set_defaults(func=cmd_validate)

    s = sub.add_parser("list", help="list questions, filtered by topic, type, difficulty or tag")
    s.add_argument("--topic"), s.add_argument("--type", choices=["concept", "formula", "coding"])
    s.add_argument("--difficulty", choices=["easy", "medium", "hard"]), s.add_argument("--tag")
    s.add_argument("--lang", choices=["zh", "en"], default="en", help="language of the titles (default en)")
    s.add_argument("--root", help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_list)

    s = sub.add_parser("plan", help="the syllabus as a study plan: areas, subjects and the questions that teach them")
    s.add_argument("--lang", choices=("zh", "en"), default="zh")
    s.add_argument("--questions", action="store_true", help="list each subject's questions, easiest first")
    s.add_argument("--root", help="the checkout (default: here or above)")
    s.set_defaults(func=cmd_plan)
    s = sub.add_parser("show", help="print one question in the terminal")
    s.add_argument("id"), s.add_argument("--lang", choices=["zh", "en", "both"], default="both")
    s.add_argument("--root", help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_show)

    s = sub.add_parser("practice", help="write the stub of a coding task to my_solutions/ (never overwrites)")
    s.add_argument("task", help="a coding task id, e.g. scaled-dot-product-attention")
    s.add_argument("--dir", default="my_solutions", help="folder for your files (default my_solutions)")
    s.add_argument("--lang", choices=["zh", "en", "both"], default=None,
                   help="language of the stub's docstring and of messages (default: GENPREP_LANG, else the locale "
                        "— zh… gives zh, en… gives en — else both)")
    s.add_argument("--root", help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_practice)

    s = sub.add_parser("new", help="scaffold a valid question file from flags (prompts for what is missing)")
    s.add_argument("--id"), s.add_argument("--topic"), s.add_argument("--type", choices=["concept", "formula", "coding"])
    s.add_argument("--difficulty", choices=["easy", "medium", "hard"])
    s.add_argument("--title-zh"), s.add_argument("--title-en")
    s.add_argument("--root", help="the checkout (default: the one around the current folder)")
    s.set_defaults(func=cmd_new)

    s = sub.add_parser("pages", help="generate the study site's Markdown pages from the questions")
    s.add_argument("--out", default="site/bank", help="output folder (default site/bank)")
    s.add_argument("--root", help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_pages)

    s = sub.add_parser("anki", help="build an Anki deck (.apkg) of the concept and formula questions")
    s.add_argument("--out", default="genprep.apkg", help="output file (default genprep.apkg)")
    s.add_argument("--lang", choices=["zh", "en", "both"], default="both")
    s.add_argument("--topic"), s.add_argument("--tag"), s.add_argument("--difficulty", choices=["easy", "medium", "hard"])
    s.add_argument("--root", help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_anki)

    s = sub.add_parser("progress", help="run your solutions' tests and show solved / failing / not attempted per topic")
    s.add_argument("--solutions", default="my_solutions", help="your folder (default my_solutions)")
    s.add_argument("--last", action="store_true", help="show the last run instead of running the tests again")
    s.add_argument("-v", "--verbose", action="store_true", help="list every task")
    s.add_argument("--lang", choices=["zh", "en", "both"], default=None,
                   help="language of the table and messages (default: GENPREP_LANG, else the locale "
                        "— zh… gives zh, en… gives en — else both)")
    s.add_argument("--root", help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_progress)

    s = sub.add_parser("schema", help="write schema/question.schema.json (JSON Schema for editors) from genprep/bank/schema.py")
    s.add_argument("--check", action="store_true", help="only check that the file is up to date (exit 1 if not)")
    s.add_argument("--root", help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_schema)

    s = sub.add_parser("check-tests", help="prove the tests reject every untouched stub and known-wrong variant")
    s.add_argument("task", nargs="*", help="only these tasks (default: all)")
    s.add_argument("--timeout", type=float, default=60.0, help="per-test limit in seconds")
    s.add_argument("-v", "--verbose", action="store_true", help="list every verdict, not only the bad ones")
    s.add_argument("--root", help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_check_tests)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `genprep list | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
