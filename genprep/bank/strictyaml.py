"""Read one YAML file strictly and remember where every value came from.

PyYAML's safe loader still accepts duplicate keys (the last one silently
wins) and expands aliases, so a "billion laughs" file can blow up memory.
We compose the node graph ourselves and build plain Python values from it:
no object-construction tags, no duplicate keys, no anchors/aliases, bounded
size and depth. Every problem becomes a `Problem` with a line number.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

try:  # the C parser is ~10x faster; fall back silently where libyaml is missing
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

from genprep.bank.errors import Problem

MAX_BYTES = 256 * 1024  # a question is a few KB; anything this large is a mistake
MAX_DEPTH = 20
_STANDARD_TAGS = {
    "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}
_STR = "tag:yaml.org,2002:str"
_SCALAR_RESOLVER = yaml.SafeLoader("")  # only used for its scalar constructors


@dataclass
class Document:
    """Plain data from one file plus the line of every field path."""

    path: Path
    data: object
    lines: dict[tuple, int] = field(default_factory=dict)

    def line(self, *path: object) -> int:
        """Line of the deepest known prefix of `path` (1-based)."""
        key = tuple(path)
        while key and key not in self.lines:
            key = key[:-1]
        return self.lines.get(key, 1)


class _Invalid(Exception):
    def __init__(self, line: int, field: str, message: str):
        self.line, self.field, self.message = line, field, message


def _field_name(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _build(node: yaml.Node, path: tuple, doc: Document, seen: set[int], depth: int) -> object:
    line = node.start_mark.line + 1
    if depth > MAX_DEPTH:
        raise _Invalid(line, _field_name(path), f"nested deeper than {MAX_DEPTH} levels; flatten the structure")
    if id(node) in seen:
        raise _Invalid(line, _field_name(path),
                       "anchors and aliases (&name / *name) are not allowed in question files; write the value out")
    seen.add(id(node))
    if node.tag == "tag:yaml.org,2002:timestamp":
        raise _Invalid(line, _field_name(path), "looks like a date; quote it if it is text (\"2020-01-01\")")
    if node.tag not in _STANDARD_TAGS:
        raise _Invalid(line, _field_name(path),
                       f"the tag {node.tag!r} is not allowed; question files hold plain text, numbers and lists only")
    doc.lines.setdefault(path, line)
    if isinstance(node, yaml.MappingNode):
        out: dict = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise _Invalid(key_node.start_mark.line + 1, _field_name(path), "a key must be plain text")
            key = _build(key_node, path + ("<key>",), doc, seen, depth + 1)
            if not isinstance(key, (str, int)):
                raise _Invalid(key_node.start_mark.line + 1, _field_name(path), f"the key {key!r} must be plain text")
            if key in out:
                first = doc.lines.get(path + (key,), 0)
                raise _Invalid(key_node.start_mark.line + 1, _field_name(path + (key,)),
                               f"duplicate key {key!r} (first given on line {first}); keep one of them")
            doc.lines[path + (key,)] = key_node.start_mark.line + 1
            out[key] = _build(value_node, path + (key,), doc, seen, depth + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, path + (i,), doc, seen, depth + 1) for i, item in enumerate(node.value)]
    if node.tag == _STR:
        return node.value  # what PyYAML's str constructor returns, without its overhead
    construct = _SCALAR_RESOLVER.yaml_constructors[node.tag]
    return construct(_SCALAR_RESOLVER, node)


def parse(text: str, path: Path) -> tuple[Document | None, list[Problem]]:
    """Parse YAML text; returns the document or the problems found."""
    doc = Document(path=path, data=None)
    if "\t" in text:
        line = text[: text.index("\t")].count("\n") + 1
        return None, [Problem(path, line, "", "contains a tab character; YAML indentation must use spaces")]
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        what = " ".join(s for s in (exc.context, exc.problem) if s)
        return None, [Problem(path, line, "", f"not valid YAML: {what}; check indentation, colons and quotes")]
    except yaml.YAMLError as exc:  # pragma: no cover - unmarked errors are rare
        return None, [Problem(path, 0, "", f"not valid YAML: {exc}")]
    if len(nodes) != 1 or nodes[0] is None:
        msg = "is empty" if not nodes or nodes[0] is None else "holds several YAML documents (---); keep one"
        return None, [Problem(path, 0, "", msg)]
    try:
        doc.data = _build(nodes[0], (), doc, set(), 0)
    except _Invalid as exc:
        return None, [Problem(path, exc.line, exc.field, exc.message)]
    except (yaml.YAMLError, ValueError, TypeError) as exc:
        return None, [Problem(path, 0, "", f"a value could not be read: {exc}")]
    return doc, []


def read(path: Path) -> tuple[Document | None, list[Problem]]:
    """Read and parse a file: UTF-8 (a BOM is tolerated), size-limited."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return None, [Problem(path, 0, "", f"is {size} bytes; a question file may be at most {MAX_BYTES} bytes")]
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem(path, 0, "", f"cannot be read: {exc.strerror}")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        message = f"is not UTF-8 (byte {raw[exc.start]:#04x} at offset {exc.start}); save the file as UTF-8"
        return None, [Problem(path, line, "", message)]
    return parse(text, path)
