"""The strict loader: every malformed file gives one clear problem with file, line and field."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genprep.bank.errors import BankError, Problem
from genprep.bank.first_use import abbreviation_of
from genprep.bank.loader import check_bank, load_bank
from genprep.bank.strictyaml import MAX_BYTES, parse
from genprep.bank.tidy import MODELINE

CORPUS = Path(__file__).parent.parent / "corpus" / "invalid"
CASES = sorted(CORPUS.glob("*.yaml"))


def expectations(path: Path) -> tuple[str, int | None]:
    head = path.read_bytes().decode("utf-8").splitlines()[:2]
    expect = re.match(r"# expect: (.*)", head[0]).group(1)
    line = next((int(m.group(1)) for h in head if (m := re.match(r"# line: (\d+)", h))), None)
    return expect, line


def test_the_fixture_checkout_is_valid(checkout):
    bank = load_bank(checkout)
    assert sorted(bank.questions) == ["good-formula", "good-task"]
    assert bank.tasks["good-task"].solution.names == ("double",)


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_each_malformed_file_is_reported_with_file_line_and_field(checkout, case):
    expect, line = expectations(case)
    target = checkout / "questions" / "foundations" / case.name
    shutil.copy(case, target)
    bank, problems = check_bank(checkout)
    mine = [p for p in problems if p.path.resolve() == target.resolve()]
    assert mine, f"{case.name}: no problem reported (expected '{expect}')"
    assert any(expect in p.message or expect in p.format() for p in mine), \
        f"{case.name}: expected '{expect}' in {[p.format() for p in mine]}"
    if line is not None:
        assert any(p.line == line for p in mine if expect in p.format()), \
            f"{case.name}: expected line {line}, got {[p.format() for p in mine]}"
    assert all(isinstance(p, Problem) for p in problems)
    # the other files still load: one bad file does not hide the rest
    assert "good-task" in bank.questions


def test_all_problems_of_a_run_are_reported_together(checkout):
    for case in CASES[:5]:
        shutil.copy(case, checkout / "questions" / "foundations" / case.name)
    with pytest.raises(BankError) as err:
        load_bank(checkout)
    files = {p.path.name for p in err.value.problems}
    assert {c.name for c in CASES[:5]} <= files
    assert err.value.report().endswith("problems found.")


def test_non_utf8_bytes(checkout):
    path = checkout / "questions" / "foundations" / "latin1.yaml"
    path.write_bytes("id: latin1\ntitle: {zh: caf\xe9, en: x}\n".encode("latin-1"))
    _, problems = check_bank(checkout)
    (p,) = [p for p in problems if p.path == path]
    assert "not UTF-8" in p.message and p.line == 2


def test_a_byte_order_mark_is_tolerated(checkout):
    src = checkout / "questions" / "foundations" / "good-formula.yaml"
    src.write_bytes(b"\xef\xbb\xbf" + src.read_bytes())
    bank, problems = check_bank(checkout)
    assert problems == [] and "good-formula" in bank.questions


def test_huge_file_is_refused_without_parsing(checkout):
    path = checkout / "questions" / "foundations" / "huge.yaml"
    path.write_text("id: huge\n" + "# padding\n" * (MAX_BYTES // 10 + 10), encoding="utf-8")
    _, problems = check_bank(checkout)
    (p,) = [p for p in problems if p.path == path]
    assert "at most" in p.message


def test_duplicate_ids_across_files(checkout):
    other = checkout / "questions" / "vae" / "good-formula.yaml"
    other.parent.mkdir()
    text = (checkout / "questions" / "foundations" / "good-formula.yaml").read_text(encoding="utf-8")
    other.write_text(text.replace("topic: foundations", "topic: vae"), encoding="utf-8")
    _, problems = check_bank(checkout)
    assert any("already used by" in p.message for p in problems)


def test_topic_and_folder_must_agree(checkout):
    path = checkout / "questions" / "vae" / "misplaced.yaml"
    path.parent.mkdir()
    path.write_text((CORPUS.parent.parent / "core" / "conftest.py").read_text(encoding="utf-8")[:0] +
                    "id: misplaced\ntype: concept\ntopic: foundations\ndifficulty: easy\n"
                    "title: {zh: 标题, en: Title}\nanswer: {zh: 答案, en: Answer}\n", encoding="utf-8")
    _, problems = check_bank(checkout)
    assert any("move it to questions/foundations/" in p.message for p in problems)


def test_task_files_are_checked(checkout):
    shutil.rmtree(checkout / "tests" / "wrong" / "good_task")
    (checkout / "tests" / "tasks" / "test_good_task.py").unlink()
    _, problems = check_bank(checkout)
    messages = " ".join(p.message for p in problems)
    assert "has no tests" in messages and "at least 3 known-wrong variants" in messages


def test_reference_must_define_the_names(checkout):
    (checkout / "solutions" / "mod.py").write_text("def other(x):\n    return x\n", encoding="utf-8")
    _, problems = check_bank(checkout)
    assert any("does not define 'double'" in p.message for p in problems)


def test_missing_topics_file(tmp_path):
    bank, problems = check_bank(tmp_path)
    assert bank is None and "genprep checkout" in problems[0].message


@settings(max_examples=200)
@given(st.text(max_size=300))
def test_fuzz_any_text_gives_a_document_or_problems(text):
    doc, problems = parse(text, Path("fuzz.yaml"))
    assert (doc is None) == bool(problems)
    assert all(isinstance(p, Problem) for p in problems)


YAMLISH = st.lists(st.sampled_from(list("ab:- \n{}[]&*!|>'\"#%@`,?\t0\\") + ["zh", "en", "id", "!!python/name:os.system"]),
                   max_size=80).map("".join)


@settings(max_examples=300)
@given(YAMLISH)
def test_fuzz_yaml_like_text(text):
    doc, problems = parse(text, Path("fuzz.yaml"))
    assert (doc is None) == bool(problems)


@settings(max_examples=100)
@given(st.binary(max_size=200))
def test_fuzz_bytes_through_the_whole_loader(tmp_path_factory, data):
    from genprep.bank.strictyaml import read
    path = tmp_path_factory.mktemp("fuzz") / "x.yaml"
    path.write_bytes(data)
    doc, problems = read(path)
    assert (doc is None) == bool(problems)


def test_glossary_avoid_list_is_enforced(checkout):
    (checkout / "questions" / "glossary.yaml").write_text(
        '- {en: scaling law, zh: 缩放定律, avoid: ["缩放律"]}\n', encoding="utf-8")
    path = checkout / "questions" / "foundations" / "good-formula.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("翻倍公式", "翻倍的缩放律"), encoding="utf-8")
    _, problems = check_bank(checkout)
    (p,) = problems
    assert p.field == "title.zh" and "the glossary translates 'scaling law' as '缩放定律'" in p.message



@pytest.mark.parametrize("en, expected", [
    ("chain-of-thought (CoT)", ("chain-of-thought", "CoT")),
    ("variational autoencoder (VAE)", ("variational autoencoder", "VAE")),
    ("signal-to-noise ratio (SNR)", ("signal-to-noise ratio", "SNR")),
    ("advantage (RL)", None),  # says which field, not an abbreviation: RL is not in "advantage"
    ("precision (generative models)", None),
    ("diffusion prior (unCLIP)", None),  # one capital is not an abbreviation's
    ("KL divergence", None),
])
def test_an_abbreviation_is_told_from_a_field_in_parentheses(en, expected):
    assert abbreviation_of(en) == expected


SNR_GLOSSARY = ('- {en: signal-to-noise ratio (SNR), zh: 信噪比}\n'
                '- {en: log signal-to-noise ratio (log-SNR), zh: 对数信噪比}\n')


def _answer_with(checkout: Path, zh: str) -> list[Problem]:
    (checkout / "questions" / "glossary.yaml").write_text(SNR_GLOSSARY, encoding="utf-8")
    path = checkout / "questions" / "foundations" / "good-formula.yaml"
    english = "The higher the signal-to-noise ratio (SNR), the less noise is left in the sample:"
    path.write_text(path.read_text(encoding="utf-8").replace("翻倍：", zh).replace("Doubling:", english),
                    encoding="utf-8")
    return check_bank(checkout)[1]


def test_an_abbreviated_term_used_first_without_its_english_is_reported(checkout):
    (p,) = _answer_with(checkout, "信噪比越高，噪声越少：")
    assert (p.field, p.line) == ("answer.zh", 10)
    assert "first use of '信噪比' without its English: write 信噪比（SNR）" in p.message


@pytest.mark.parametrize("zh", [
    "信噪比（SNR）越高，噪声越少：",
    "信噪比（signal-to-noise ratio）越高，噪声越少：",  # the words, hyphens or not
    "SNR 即信噪比，越高噪声越少：",  # the English came first
    "对数信噪比（log-SNR）描述调度：",  # the longer term is introduced; the shorter one is not used
])
def test_an_abbreviated_term_introduced_with_its_english_passes(checkout, zh):
    assert _answer_with(checkout, zh) == []


def test_a_title_is_a_heading_and_needs_no_english(checkout):
    path = checkout / "questions" / "foundations" / "good-formula.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("翻倍公式", "信噪比的翻倍公式"), encoding="utf-8")
    assert _answer_with(checkout, "信号与噪声之比越高，噪声越少：") == []


# Run in a fresh interpreter: the loader forks only from a single-threaded process, and
# other tests leave threads running in this one (a local web server, the browser driver).
_READ_WITH_A_POOL = """
import json, sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
import genprep.bank.loader as loader
pools = []
loader.PARALLEL_FROM = 1
loader.os.sched_getaffinity = lambda pid: {0, 1}
loader.ProcessPoolExecutor = lambda *a, **k: pools.append(a) or ProcessPoolExecutor(*a, **k)
bank, problems = loader.check_bank(Path(sys.argv[1]))
print(json.dumps({"pools": pools, "problems": [p.format() for p in problems],
                  "questions": {k: repr(q) for k, q in bank.questions.items()}}))
"""


def test_a_large_bank_read_by_several_processes_gives_the_same_result(checkout):
    # Every malformed file plus a duplicate id, read once here and once by a pool of processes.
    for case in CASES:
        shutil.copy(case, checkout / "questions" / "foundations" / case.name)
    (checkout / "questions" / "vae").mkdir()
    text = (checkout / "questions" / "foundations" / "good-formula.yaml").read_text(encoding="utf-8")
    (checkout / "questions" / "vae" / "good-formula.yaml").write_text(
        "# a copy\n" + text.replace("topic: foundations", "topic: vae"), encoding="utf-8")
    bank_one, problems_one = check_bank(checkout)
    run = subprocess.run([sys.executable, "-c", _READ_WITH_A_POOL, str(checkout)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    pooled = json.loads(run.stdout)
    assert pooled["pools"] == [[2]]  # the pool was used
    assert pooled["problems"] == [p.format() for p in problems_one]
    assert len(problems_one) > len(CASES)
    assert any("already used by" in p and ":3:" in p for p in pooled["problems"])  # the id's line (after two comments)
    assert pooled["questions"] == {k: repr(q) for k, q in bank_one.questions.items()}


def test_tags_that_are_not_slugs_are_not_called_duplicates(checkout):
    path = checkout / "questions" / "foundations" / "good-task.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "tags: [VAE, latent space]\n", encoding="utf-8")
    problems = [p.format() for p in check_bank(checkout)[1]]
    assert any("'VAE' is not a slug" in p for p in problems) and any("'latent space' is not a slug" in p for p in problems)
    assert not any("twice" in p for p in problems), problems


def test_a_real_duplicate_tag_is_named(checkout):
    path = checkout / "questions" / "foundations" / "good-task.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "tags: [vae, gan, vae]\n", encoding="utf-8")
    assert any("lists vae twice" in p.format() for p in check_bank(checkout)[1])


def test_a_file_without_the_schema_modeline_is_named(checkout):
    path = checkout / "questions" / "foundations" / "good-task.yaml"
    path.write_text(path.read_text(encoding="utf-8").split("\n", 1)[1], encoding="utf-8")
    problems = [p.format() for p in check_bank(checkout)[1]]
    assert problems == [f"{path}:1: the first line must point editors at the schema; run `python -m genprep.bank.tidy "
                        f"good-task.yaml` (it adds: {MODELINE})"]


def test_dollar_signs_in_code_and_escaped_ones_are_not_formulas():
    from genprep.bank.latex import markdown_problems
    assert markdown_problems("costs `$5` or \\$6; $x$ is math") == []
    assert markdown_problems("$a$ and $b\n\nnext paragraph $c$") != []



SYLLABUS = """\
- id: basics
  title: {zh: 基础, en: Basics}
  subjects:
    - id: doubling
      title: {zh: 加倍, en: Doubling}
      covers: {zh: 把数乘以二。, en: Multiplying by two.}
    - id: halving
      title: {zh: 减半, en: Halving}
      covers: {zh: 把数除以二。, en: Dividing by two.}
"""


def teach(checkout, subjects: str) -> None:
    """Give the checkout the two-subject syllabus and let good-task name `subjects`."""
    (checkout / "questions" / "syllabus.yaml").write_text(SYLLABUS, encoding="utf-8")
    task = checkout / "questions" / "foundations" / "good-task.yaml"
    task.write_text(task.read_text(encoding="utf-8").replace("topic: foundations",
                                                             f"topic: foundations\nsyllabus: [{subjects}]"),
                    encoding="utf-8")


def test_every_syllabus_subject_must_be_taught_and_every_named_subject_exist(checkout):
    teach(checkout, "doubling, halfing")
    bank, problems = check_bank(checkout)
    found = [p.format() for p in problems]
    assert len(found) == 2, found
    # sorted by file: questions/foundations/… before questions/syllabus.yaml
    assert "good-task.yaml:7: [syllabus] no syllabus subject 'halfing'" in found[0]
    assert "did you mean 'halving'?" in found[0]
    assert "questions/syllabus.yaml:7: [halving] no question teaches this subject" in found[1]
    assert [a.id for a in bank.syllabus] == ["basics"]


def test_a_question_may_teach_the_subjects_of_the_syllabus(checkout):
    teach(checkout, "doubling, halving")
    bank, problems = check_bank(checkout)
    assert problems == []
    assert [q.id for q in bank.teaching("halving")] == ["good-task"]



def test_the_syllabus_follows_the_glossary_too(checkout):
    teach(checkout, "doubling, halving")
    (checkout / "questions" / "glossary.yaml").write_text('- {en: halving, zh: 减半, avoid: ["折半"]}\n',
                                                          encoding="utf-8")
    syllabus = checkout / "questions" / "syllabus.yaml"
    syllabus.write_text(SYLLABUS.replace("把数除以二。", "把数折半。"), encoding="utf-8")
    (p,) = check_bank(checkout)[1]
    assert "questions/syllabus.yaml:7: [halving] uses '折半'; the glossary translates 'halving' as '减半'" in p.format()

def test_follow_ups_and_numbers_are_loaded(checkout):
    path = checkout / "questions" / "foundations" / "good-formula.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "follow_ups:\n  - question: {zh: \"为什么是 1,024？\", en: \"Why 1,024?\"}\n"
                           "    answer: {zh: 因为是二的十次方。, en: It is two to the tenth.}\n    see: good-task\n"
                           "numbers:\n  - {what: two to the tenth, expr: '2**10', shows: '1,024'}\n", encoding="utf-8")
    bank, problems = check_bank(checkout)
    assert problems == []
    (fu,) = bank.questions["good-formula"].follow_ups
    assert fu.see == "good-task" and fu.answer.en == "It is two to the tenth."
    assert bank.questions["good-formula"].numbers[0].shows == "1,024"
