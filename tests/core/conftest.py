"""Fixtures for genprep's own tests: a tiny, valid checkout in a temp folder."""
from __future__ import annotations

from pathlib import Path

import pytest
from _checkout import make_checkout


@pytest.fixture(autouse=True)
def _messages_in_english(monkeypatch):
    """genprep's own tests read its English messages, whatever the developer's locale (GENPREP_LANG, LANG=zh_…);
    the tests of the language rule choose their language themselves."""
    from genprep.learner import lang
    monkeypatch.setenv("GENPREP_LANG", "en")
    previous = lang.set_language("en")
    yield
    lang.set_language(previous)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A minimal valid genprep checkout: two topics, one coding task with tests and wrong variants."""
    return make_checkout(tmp_path / "repo")
