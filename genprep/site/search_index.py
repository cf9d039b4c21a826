"""The site's search index, made for Chinese as much as for English.

MkDocs' search plugin cuts Chinese text into words with jieba at build time
and writes `search/search_index.json`; the browser searches it in a worker
(site/assets/search-worker.js, started by head.js only when search is used).
Two things here make that work for this bank:

- `jieba_words(bank)`: the bank's own terms (the glossary's Chinese, and a few
  short terms that sit inside longer glossary entries) as jieba's user
  dictionary, so 交叉熵 or 朗之万 is one word, not 交叉/熵 or 朗/之/万;
- `clean_index(data, titles)`: the index as plain text — formulas turned into
  readable symbols (`\\frac{1}{2}\\sigma^2` is never shown in a result), HTML
  tags and the language tabs' labels dropped — and each question page titled
  in both languages.
"""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

from genprep.bank.markdown_text import plain_text
from genprep.bank.model import Bank

# Short terms that readers search for but that the glossary only has inside longer entries
# (朗之万动力学, 自注意力, 正弦位置编码…).
SHORT_TERMS = ("朗之万", "注意力", "散度", "交叉熵", "位置编码", "自编码器", "编码器", "解码器", "归一化", "词元",
               "扩散", "去噪", "采样", "微调", "对齐", "量化", "蒸馏", "梯度", "损失", "似然")
_HAN_RUN = re.compile(r"[\u3400-\u9fff]{2,}")


def jieba_words(bank: Bank) -> list[str]:
    """The Chinese words jieba should keep whole: every run of Chinese in a glossary term, and SHORT_TERMS."""
    words: dict[str, None] = {}
    for entry in bank.glossary:
        for run in _HAN_RUN.findall(entry.zh):
            words.setdefault(run)
    for term in SHORT_TERMS:
        words.setdefault(term)
    return list(words)


def load_jieba_words(words: list[str]) -> bool:
    """Teach jieba the words (in this process; forked page workers inherit it). False without jieba."""
    try:
        import jieba
    except ImportError:
        return False
    import logging
    logging.getLogger("jieba").setLevel(logging.WARNING)
    jieba.initialize()
    for word in words:
        jieba.add_word(word, freq=jieba.suggest_freq(word, False) + 1)
    return True


_MATH = re.compile(r"\\\((.+?)\\\)|\\\[(.+?)\\\]", re.S)
_DOLLARS = re.compile(r"\$\$(.+?)\$\$|\$([^$]+)\$", re.S)  # docstrings of the reference code
_TAG = re.compile(r"<[^>]+>")
_TAB_LABELS = re.compile("\u200b?中文\u200b?English\u200b?")
_SPACES = re.compile(r"[ \t\r\n]+")


_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")


def _math(tex: str) -> str:
    """A formula as readable text: \\frac{a}{b} → a/b, \\sigma → σ, other commands dropped."""
    return " " + plain_text("$" + _FRAC.sub(r" \1/\2 ", tex) + "$") + " "


def plain(text: str) -> str:
    """Index text (HTML with \\( \\) formulas) as plain text without LaTeX commands."""
    text = html.unescape(_TAG.sub(" ", text))
    text = _MATH.sub(lambda m: _math(m.group(1) or m.group(2)), text)
    text = _DOLLARS.sub(lambda m: _math(m.group(1) or m.group(2)), text)  # in the reference code's docstrings
    text = _TAB_LABELS.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def clean_index(data: dict, titles: dict[str, str] | None = None) -> dict:
    """The index with plain-text titles and texts; `titles` maps a page's location to the title it should show."""
    titles = titles or {}
    for doc in data.get("docs", []):
        location = doc.get("location", "")
        doc["title"] = titles.get(location) or plain(doc.get("title", ""))
        doc["text"] = plain(doc.get("text", ""))
    return data


def question_titles(bank: Bank) -> dict[str, str]:
    """Each question page's title in both languages (its heading holds them in two elements)."""
    return {f"q/{q.id}/": plain_text(f"{q.title.zh} · {q.title.en}") for q in bank.questions.values()}


def rewrite(site_dir: Path, bank: Bank, titles: dict[str, str] | None = None) -> Path | None:
    """Clean the index the search plugin wrote, in place; None when there is none (search turned off).
    `titles`: page URL → front matter title, for pages whose heading holds one element per language."""
    path = site_dir / "search" / "search_index.json"
    if not path.is_file():
        return None
    data = clean_index(json.loads(path.read_text(encoding="utf-8")),
                       {**{url: plain_text(t) for url, t in (titles or {}).items()}, **question_titles(bank)})
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return path
