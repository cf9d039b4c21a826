"""Derived artefacts: the JSON Schema for editors, the Anki deck, Markdown normalization."""
from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

import pytest
import yaml

from genprep.bank.markdown_text import normalize
from genprep.cli import main
from genprep.exports.jsonschema import SCHEMA_PATH, schema_text

ROOT = Path(__file__).resolve().parents[2]


def test_committed_schema_matches_the_project_schema():
    assert (ROOT / SCHEMA_PATH).read_text(encoding="utf-8") == schema_text(), \
        "schema/question.schema.json is stale: run `genprep schema`"


def test_schema_accepts_the_bank_and_rejects_broken_files(checkout):
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(json.loads(schema_text()))
    for path in (checkout / "questions" / "foundations").glob("*.yaml"):
        assert list(validator.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8")))) == [], path
    good = yaml.safe_load((checkout / "questions" / "foundations" / "good-formula.yaml").read_text(encoding="utf-8"))
    for broken in ({**good, "titel": "typo"}, {**good, "title": {"zh": "只有中文"}}, {**good, "difficulty": "extreme"},
                   {k: v for k, v in good.items() if k != "verified_by"}, {**good, "type": "concept"}):
        assert list(validator.iter_errors(broken)), broken


def read_deck(path: Path) -> list[tuple[str, list[str], str]]:
    with zipfile.ZipFile(path) as z:
        db = path.parent / f"{path.stem}.anki2"
        db.write_bytes(z.read("collection.anki2"))
    with sqlite3.connect(db) as con:
        return [(guid, flds.split("\x1f"), tags) for guid, flds, tags in con.execute("select guid, flds, tags from notes")]


def test_anki_deck_round_trip(checkout, tmp_path):
    pytest.importorskip("genanki")
    out = tmp_path / "deck.apkg"
    assert main(["anki", "--root", str(checkout), "--out", str(out)]) == 0
    notes = read_deck(out)
    assert [n[1][0] for n in notes] == ["good-formula"]  # concept and formula questions only, not coding
    guid, fields, tags = notes[0]
    assert "翻倍公式" in fields[1] and "The doubling formula" in fields[1]
    assert r"\[y = 2x\]" in fields[2]  # Anki's own MathJax delimiters
    assert "formula" in tags
    # building again gives the same GUIDs: re-import updates instead of duplicating
    again = tmp_path / "again.apkg"
    main(["anki", "--root", str(checkout), "--out", str(again)])
    assert [n[0] for n in read_deck(again)] == [guid]
    zh = tmp_path / "zh.apkg"
    main(["anki", "--root", str(checkout), "--out", str(zh), "--lang", "zh"])
    (zh_note,) = read_deck(zh)
    assert "The doubling formula" not in zh_note[1][1] and zh_note[0] != guid


def test_anki_filters_that_match_nothing(checkout, tmp_path, capsys):
    pytest.importorskip("genanki")
    assert main(["anki", "--root", str(checkout), "--out", str(tmp_path / "x.apkg"), "--topic", "vae"]) == 1
    assert "no concept or formula question matches" in capsys.readouterr().err


def test_lists_after_a_paragraph_get_their_blank_line():
    assert normalize("**Sources**:\n1. data\n2. models\n") == "**Sources**:\n\n1. data\n2. models\n"
    assert normalize("text\n- a\n  continued\n- b") == "text\n\n- a\n  continued\n- b"
    fenced = "```\nx\n- not a list\n```"
    assert normalize(fenced) == fenced


def test_display_math_inside_a_paragraph_becomes_its_own_block():
    assert normalize("para:\n$$\na=b\n$$\nmore") == "para:\n\n$$\na=b\n$$\n\nmore"
    clean = "x\n\n$$a$$\n\ny"
    assert normalize(clean) == clean


def test_display_math_inside_a_list_item_stays_in_the_item():
    got = normalize("1. text:\n   $$a=b$$\n   more\n2. next")
    assert got == "1. text:  \n   $\\displaystyle a=b$  \n   more\n2. next"


def test_tidy_formats_question_files(tmp_path):
    from genprep.bank.tidy import MODELINE
    from genprep.bank.tidy import main as tidy_main
    path = tmp_path / "q.yaml"
    path.write_text("id: x   \r\ntype: concept\n\n\n", encoding="utf-8")
    assert tidy_main([str(path)]) == 1  # changed, as formatters report
    assert path.read_text(encoding="utf-8") == f"{MODELINE}\nid: x\ntype: concept\n"
    assert tidy_main([str(path)]) == 0  # already tidy
