"""What HTML a question may contain, checked twice.

Question text comes from contributors and ends up on every reader's screen,
so it must not carry scripts. The policy: Markdown plus a few inline tags
without attributes (`ALLOWED_TAGS`). Nothing else: no raw HTML blocks, no
event handlers, no `javascript:` links, no `{: ...}` attribute lists.

- `markdown_problems` runs in the loader, so a contributor gets file, line
  and field (the build then refuses a bank with problems).
- `html_problems` runs on every page's rendered content in the MkDocs hook,
  as a second line of defence against anything the first check missed.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

ALLOWED_TAGS = {"br", "sub", "sup", "kbd", "b", "i", "em", "strong", "code", "u", "s"}
_MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+\$", re.S)
_CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)
_TAG = re.compile(r"<\s*(/?)\s*([a-zA-Z][a-zA-Z0-9:-]*)([^>]*)>?")
_COMMENT = re.compile(r"<!--|<!\[CDATA\[|<\?")
_BAD_SCHEME = re.compile(r"\]\(\s*<?\s*(javascript|vbscript|data|file)\s*:", re.I)
_ATTR_LIST = re.compile(r"\{\s*:|\{\s*[.#][\w-]+[^}]*\}|\{[^}]*\bon\w+\s*=", re.I)
_AUTOLINK = re.compile(r"<\s*(javascript|vbscript|data)\s*:", re.I)


def markdown_problems(text: str) -> list[str]:
    """Problems with raw HTML or unsafe links in one Markdown text."""
    plain = _MATH.sub("", _CODE.sub("", text))
    out: list[str] = []
    if _COMMENT.search(plain):
        out.append("contains an HTML comment or processing instruction; remove it")
    for closing, name, attrs in _TAG.findall(plain):
        if name.lower() in ("javascript", "vbscript", "data"):
            continue  # handled by _AUTOLINK below
        if name.lower() not in ALLOWED_TAGS:
            out.append(f"raw HTML <{closing}{name}> is not allowed in question text; write Markdown, and put "
                       f"literal angle brackets in `code` (allowed inline tags: {', '.join(sorted(ALLOWED_TAGS))})")
        elif attrs.strip().strip("/"):
            out.append(f"HTML attributes are not allowed (<{name}{attrs[:40]}>); write the tag bare")
    if _BAD_SCHEME.search(plain) or _AUTOLINK.search(plain):
        out.append("links may only use http(s) or relative addresses (found javascript:, data:, vbscript: or file:)")
    if _ATTR_LIST.search(plain):
        out.append("Markdown attribute lists ({: ...} or {.class}) are not allowed in question text")
    return sorted(set(out))


# Tags our generated Markdown never needs in page content, and that can run code or restyle the page.
_FORBIDDEN_TAGS = {"script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "link",
                   "meta", "base", "form", "svg", "math", "template", "noscript", "audio", "video", "portal"}
_URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "poster", "srcset", "background"}
_SAFE_URL = re.compile(r"^\s*(https?:|mailto:|#|\.{0,2}/|[\w.\-~%/?=&]*$)", re.I)


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in _FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"event handler {name}= on <{tag}>")
            elif name == "style" and not re.fullmatch(r"\s*text-align:\s*(left|right|center);?\s*", value or ""):
                self.problems.append(f"inline style on <{tag}>")
            elif name in _URL_ATTRS and value is not None and not _SAFE_URL.match(value):
                self.problems.append(f"unsafe URL {value[:40]!r} in {name}= on <{tag}>")

    handle_startendtag = handle_starttag


_TAGS = re.compile(r"<[!/]?[a-zA-Z][^>]*>?")
_known_safe: set[str] = set()  # tags already found safe on earlier pages (most repeat: <p>, <li>, tab inputs)
_KNOWN_SAFE_MAX = 200_000


def html_problems(html: str) -> list[str]:
    """Unsafe constructs in rendered page content (not the theme around it).

    Only the tags matter (elements and attributes), so only they are parsed:
    the text between them, most of a page, is skipped, and so is a tag seen
    on an earlier page (the verdict on a tag depends on its text alone).
    """
    problems: list[str] = []
    for tag in dict.fromkeys(_TAGS.findall(html)):
        if tag in _known_safe:
            continue
        scanner = _Scanner()
        scanner.feed(tag)
        scanner.close()
        if scanner.problems:
            problems += scanner.problems
        elif tag.endswith(">"):
            if len(_known_safe) >= _KNOWN_SAFE_MAX:
                _known_safe.clear()
            _known_safe.add(tag)
    return problems
