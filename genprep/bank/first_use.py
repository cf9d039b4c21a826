"""The glossary's first-use rule for abbreviated terms.

A term the glossary writes with its abbreviation — ``signal-to-noise ratio (SNR)`` — is introduced in
Chinese with its English the first time a question's text uses it: 信噪比（SNR）. A reader meets the
abbreviation in papers and interviews and must be able to connect the two.

Only abbreviations are checked: a parenthesis that merely says which field a term belongs to
(``advantage (RL)``, ``precision (generative models)``) is not one. An abbreviation is told apart by
its letters: at least two capitals, and its letters appear, in order, in the words before it,
starting with the first (``chain-of-thought (CoT)``, ``variational autoencoder (VAE)``).
Titles are headings and are skipped; the rule starts with the answer.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .model import GlossaryEntry

# How far after the Chinese term (in characters) its English may come: "信噪比（signal-to-noise
# ratio, SNR）" puts the abbreviation after the words.
NEAR = 40

_WITH_PARENTHESIS = re.compile(r"(.+?)\s*\(([A-Za-z][A-Za-z0-9.+-]*)\)")
_HAN = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class AbbreviatedTerm:
    zh: str  # as written in running text: the glossary's own parenthesis left off
    words: str  # the English words
    abbreviation: str

    def introduced_by(self, text: str) -> bool:
        text = _plain(text)
        return _plain(self.words) in text or _plain(self.abbreviation) in text


def _plain(text: str) -> str:
    """Lower case, hyphens as spaces: "Chain-of-Thought" is written "chain of thought" too."""
    return " ".join(text.lower().replace("-", " ").split())


def abbreviation_of(en: str) -> tuple[str, str] | None:
    """(words, abbreviation) when the English term ends with an abbreviation in parentheses."""
    match = _WITH_PARENTHESIS.fullmatch(en.strip())
    if not match:
        return None
    words, abbreviation = match.groups()
    letters = re.sub(r"[^a-z0-9]", "", words.lower())
    wanted = re.sub(r"[^a-z0-9]", "", abbreviation.lower())
    if sum(c.isupper() for c in abbreviation) < 2 or not letters or wanted[0] != letters[0]:
        return None
    remaining = iter(letters)
    return (words, abbreviation) if all(c in remaining for c in wanted) else None


def abbreviated_terms(glossary: Iterable[GlossaryEntry]) -> list[AbbreviatedTerm]:
    """The glossary's abbreviated terms, longest Chinese first (so 多头注意力 is found before 注意力)."""
    terms = []
    for entry in glossary:
        found = abbreviation_of(entry.en)
        zh = re.split(r"[（(]", entry.zh)[0].strip()
        if found and _HAN.search(zh):
            terms.append(AbbreviatedTerm(zh, *found))
    return sorted(terms, key=lambda t: -len(t.zh))


def first_uses_without_english(texts: Iterable[tuple[tuple, str]],
                               terms: list[AbbreviatedTerm]) -> list[tuple[tuple, AbbreviatedTerm]]:
    """(field path, term) for each term whose first use in these Chinese texts (in reading order,
    titles left out) has its English neither near it nor anywhere before it."""
    pieces = [(path, text) for path, text in texts if path[0] != "title" and text]
    whole = "\n".join(text for _, text in pieces)
    starts, at = [], 0
    for path, text in pieces:
        starts.append((at, path))
        at += len(text) + 1
    unseen = whole  # a found term is blanked out, so a shorter term inside it is not found again
    misses = []
    for term in terms:
        i = unseen.find(term.zh)
        if i < 0:
            continue
        if not term.introduced_by(whole[:i] + whole[i:i + len(term.zh) + NEAR]):
            path = next(p for start, p in reversed(starts) if start <= i)
            misses.append((path, term))
        unseen = unseen.replace(term.zh, "\0" * len(term.zh))
    return misses
