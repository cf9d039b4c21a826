"""JSON Schema for question files, derived from schema.QUESTION_FIELDS.

Editors with the YAML language server use it to complete and flag fields as
you type (each question file points at it in its first line). The loader
stays the authority: it also checks what a schema cannot (ids vs file names,
references between files, LaTeX, HTML).
"""
from __future__ import annotations

import json

from genprep.bank.schema import (  # noqa: F401
    DIFFICULTIES,
    GLOSSARY_KEYS,
    PITFALL_KEYS,
    QUESTION_FIELDS,
    QUESTION_TYPES,
    REFERENCE_LOCATORS,
    REQUIRED_BY_TYPE,
)

SCHEMA_PATH = "schema/question.schema.json"
SLUG = "^[a-z0-9]+(-[a-z0-9]+)*$"
TEXT = {"type": "object", "additionalProperties": False, "required": ["zh", "en"],
        "properties": {"zh": {"type": "string", "minLength": 1}, "en": {"type": "string", "minLength": 1}}}


def _kind(field) -> dict:
    if field.kind == "slug":
        return {"type": "string", "pattern": SLUG}
    if field.kind == "enum":
        return {"enum": list(field.choices)}
    if field.kind == "slugs":
        return {"type": "array", "items": {"type": "string", "pattern": SLUG}, "uniqueItems": True}
    if field.kind == "text":
        return {"$ref": "#/$defs/text"}
    if field.kind == "texts":
        return {"type": "array", "items": {"$ref": "#/$defs/text"}}
    if field.kind == "latex":
        return {"type": "string", "minLength": 1, "not": {"pattern": "(?<!\\\\)\\$"}}
    if field.kind == "pitfalls":
        return {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["zh", "en"],
            "properties": {"zh": {"type": "string", "minLength": 1}, "en": {"type": "string", "minLength": 1},
                           "wrong_variant": {"type": "string", "pattern": "^[a-z0-9-]+/[a-z0-9-]+$"}}}}
    if field.kind == "references":
        return {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["title", "authors", "year"],
            "anyOf": [{"required": [k]} for k in REFERENCE_LOCATORS],
            "properties": {"title": {"type": "string"}, "authors": {"type": "string"},
                           "year": {"type": "integer", "minimum": 1700, "maximum": 2100},
                           "arxiv": {"type": "string", "pattern": r"^(\d{4}\.\d{4,5}|[a-z\-]+(\.[A-Z]{2})?/\d{7})(v\d+)?$"},
                           "doi": {"type": "string", "pattern": r"^10\.\d{4,9}/\S+$"},
                           "url": {"type": "string", "pattern": "^https://"}}}}
    if field.kind == "solution":
        return {"type": "object", "additionalProperties": False, "required": ["module", "names"],
                "properties": {"module": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                               "names": {"type": "array", "minItems": 1,
                                         "items": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}}}}
    if field.kind == "follow_ups":
        return {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["question", "answer"],
            "properties": {"question": {"$ref": "#/$defs/text"}, "answer": {"$ref": "#/$defs/text"},
                           "see": {"type": "string", "pattern": SLUG}}}}
    if field.kind == "numbers":
        return {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["what", "expr", "shows"],
            "properties": {"what": {"type": "string", "minLength": 1}, "expr": {"type": "string", "minLength": 1},
                           "shows": {"type": "string", "pattern": r"^-?[0-9][0-9,]*(\.[0-9]+)?([eE][-+]?[0-9]+)?$"}}}}
    raise ValueError(field.kind)  # pragma: no cover - every kind is listed above


def question_schema() -> dict:
    props = {}
    for f in QUESTION_FIELDS:
        props[f.name] = {**_kind(f), "description": f.doc}
    conditions = []
    for qtype, required in REQUIRED_BY_TYPE.items():
        allowed = {f.name for f in QUESTION_FIELDS if not f.only_for or qtype in f.only_for}
        forbidden = [f.name for f in QUESTION_FIELDS if f.name not in allowed]
        then: dict = {"required": list(required)}
        if forbidden:
            then["not"] = {"anyOf": [{"required": [n]} for n in forbidden]}
        conditions.append({"if": {"properties": {"type": {"const": qtype}}, "required": ["type"]}, "then": then})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://genprep.invalid/question.schema.json",
        "title": "genprep question",
        "description": "One question of the genprep bank (questions/<topic>/<id>.yaml). Generated from genprep/bank/schema.py by "
                       "`genprep schema`; do not edit by hand.",
        "type": "object",
        "additionalProperties": False,
        "required": [f.name for f in QUESTION_FIELDS if f.required],
        "properties": props,
        "allOf": conditions,
        "$defs": {"text": TEXT},
    }


def schema_text() -> str:
    return json.dumps(question_schema(), indent=2, ensure_ascii=False) + "\n"
