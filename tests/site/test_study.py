"""The study tools: follow-ups, the learner's state and progress, the study plan, the list of all questions, the
quiz, export and import (genprep/site/study.py, site/assets/study.js)."""
from __future__ import annotations

import html
import json
import os
import re
from urllib.parse import parse_qs, urlparse

import pytest
from _sitebuild import ROOT

from genprep.bank.loader import load_bank

# The browser tests load many pages; they run in CI and `./dev test` like the other slow browser tests.
slow = pytest.mark.skipif(not (os.environ.get("CI") or os.environ.get("GENPREP_SLOW")),
                          reason="study tools in the browser (~40 s); runs in CI and `./dev test` (GENPREP_SLOW=1)")
STATE_KEY = "genprep.state.v1"


@pytest.fixture(scope="module")
def bank():
    return load_bank(ROOT)


def _with_follow_ups(bank, at_least: int = 1):
    found = [q for q in bank.questions.values() if len(q.follow_ups) >= at_least]
    if not found:
        pytest.skip(f"no question has {at_least}+ follow-ups yet")
    return sorted(found, key=lambda q: q.id)[0]


def _biggest_topic(bank):
    return max(bank.topics, key=lambda t: (len(bank.in_topic(t.id)), t.id))


# ---- the build ---------------------------------------------------------------------------------------------

def _sections(page: str, tag: str) -> dict[str, str]:
    """The HTML of each <tag id=...> section of a page, up to the next heading of that level or higher."""
    level = int(tag[1])
    stops = "|".join(f"h{i}" for i in range(1, level + 1))
    parts = re.split(rf'(?=<(?:{stops})\b)', page)
    out = {}
    for part in parts:
        m = re.match(rf'<{tag}\b[^>]*\bid="([^"]+)"', part)
        if m:
            out[m.group(1)] = part
    return out


def test_the_plan_lists_every_subject_with_the_questions_that_teach_it(built_site, bank):
    if not bank.syllabus:
        pytest.skip("the bank has no syllabus yet (questions/syllabus.yaml)")
    page = (built_site / "plan" / "index.html").read_text(encoding="utf-8")
    areas, subjects = _sections(page, "h2"), _sections(page, "h3")
    for area in bank.syllabus:
        assert f"area-{area.id}" in areas, f"area {area.id} missing from the study plan"
        for subject in area.subjects:
            assert subject.id in subjects, f"subject {subject.id} missing from the study plan"
            section = subjects[subject.id]
            assert html.escape(subject.covers.en, quote=False) in section or subject.covers.en[:30] in section
            linked = re.findall(r'href="\.\./q/([a-z0-9-]+)/"', section)
            assert linked == [q.id for q in bank.teaching(subject.id)], subject.id
    if all(bank.teaching(s.id) for a in bank.syllabus for s in a.subjects):  # the syllabus is full
        assert all(re.search(r'href="\.\./q/', subjects[s.id]) for a in bank.syllabus for s in a.subjects)
        assert "gp-no-questions" not in page


def test_the_question_data_lists_every_question_with_a_page(built_site, bank):
    data = json.loads((built_site / "assets" / "questions.json").read_text(encoding="utf-8"))
    assert data["version"] == 1
    assert [t["id"] for t in data["topics"]] == [t.id for t in bank.topics]
    by_id = {q["id"]: q for q in data["questions"]}
    assert set(by_id) == set(bank.questions)
    for qid, item in by_id.items():
        q = bank.questions[qid]
        assert (item["topic"], item["type"], item["difficulty"], item["tags"]) == (q.topic, q.type, q.difficulty, list(q.tags))
        assert item["title"] == {"zh": q.title.zh, "en": q.title.en}
        assert (built_site / item["url"] / "index.html").is_file(), item["url"]
    listed = (built_site / "questions" / "index.html").read_text(encoding="utf-8")
    assert set(re.findall(r'class="gp-row" data-id="([a-z0-9-]+)"', listed)) == set(bank.questions)


def test_follow_ups_are_on_the_page_in_both_languages(built_site, bank):
    q = _with_follow_ups(bank)
    page = (built_site / "q" / q.id / "index.html").read_text(encoding="utf-8")
    n = len(q.follow_ups)
    assert page.count('class="success gp-fu-answer"') == 2 * n  # folded answers, in the Chinese and English tab
    assert page.count('gp-fu-q') == 2 * n
    assert "追问" in page and "Follow-ups" in page
    for fu in q.follow_ups:
        if fu.see:
            assert f'href="../{fu.see}/"' in page


# ---- in the browser ----------------------------------------------------------------------------------------

def _state(page) -> dict:
    return json.loads(page.evaluate(f"localStorage.getItem('{STATE_KEY}') || '{{}}'") or "{}")


@slow
def test_follow_up_answers_open_one_at_a_time_and_all_in_reading_mode(page, site_url, bank):
    q = _with_follow_ups(bank, 2)
    page.goto(f"{site_url}/q/{q.id}/")
    page.wait_for_selector(".gp-selftest-bar")
    tab = page.locator(".tabbed-block:visible").first
    tab.locator(".gp-reveal-button").click()
    answers = tab.locator("details.gp-fu-answer")
    assert answers.count() == len(q.follow_ups)
    assert tab.locator(".gp-fu-q").first.is_visible()  # the question shows, its answer is folded
    assert [answers.nth(i).evaluate("d => d.open") for i in range(answers.count())] == [False] * answers.count()
    answers.first.locator("summary").click()
    assert answers.first.evaluate("d => d.open") and not answers.nth(1).evaluate("d => d.open")
    page.locator(".gp-selftest-bar input").check()  # reading mode shows every answer
    assert all(answers.nth(i).evaluate("d => d.open") for i in range(answers.count()))
    page.reload()
    page.wait_for_selector(".gp-selftest-bar")
    answers = page.locator(".tabbed-block:visible").first.locator("details.gp-fu-answer")
    assert all(answers.nth(i).evaluate("d => d.open") for i in range(answers.count()))
    assert page.console_errors == []


@slow
def test_marking_a_question_persists_and_counts_in_topic_home_and_plan_progress(page, site_url, bank):
    topic = _biggest_topic(bank)
    first, second = bank.in_topic(topic.id)[:2]
    page.goto(f"{site_url}/q/{first.id}/")
    bar = page.locator(f'.gp-state[data-question="{first.id}"]')
    assert bar.get_attribute("data-current") == "unseen"
    bar.locator('[data-state="known"]').click()
    page.goto(f"{site_url}/q/{second.id}/")
    page.locator('.gp-state [data-state="review"]').click()
    page.goto(f"{site_url}/q/{first.id}/")
    bar = page.locator(f'.gp-state[data-question="{first.id}"]')
    assert bar.get_attribute("data-current") == "known"  # survived leaving and coming back
    assert bar.locator('[data-state="known"]').get_attribute("aria-pressed") == "true"
    assert set(_state(page)["questions"]) == {first.id, second.id}

    n = len(bank.in_topic(topic.id))
    page.goto(f"{site_url}/topics/{topic.id}/")
    box = page.locator(".gp-progress").first
    assert (box.get_attribute("data-known"), box.get_attribute("data-review"), box.get_attribute("data-unseen")) == \
        ("1", "1", str(n - 2))
    page.goto(f"{site_url}/")
    row = page.locator(f'tr:has(a[href$="topics/{topic.id}/"]) .gp-progress')
    assert (row.get_attribute("data-known"), row.get_attribute("data-review")) == ("1", "1")
    if bank.syllabus:
        page.goto(f"{site_url}/plan/")
        total = page.locator(".gp-progress-total")
        taught = {q.id for a in bank.syllabus for s in a.subjects for q in bank.teaching(s.id)}
        assert total.get_attribute("data-known") == str(int(first.id in taught))
        if first.syllabus:
            badge = page.locator(f'.gp-qstate[data-question="{first.id}"]').first
            assert badge.get_attribute("data-state") == "known"
    page.goto(f"{site_url}/q/{first.id}/")
    page.locator('.gp-state [data-state="unseen"]').click()  # back to unseen
    assert first.id not in _state(page)["questions"]
    assert page.console_errors == []


def _visible_rows(page) -> list[str]:
    return page.locator(".gp-all-questions tbody tr:visible .gp-row").evaluate_all("els => els.map(e => e.dataset.id)")


@slow
def test_the_list_filters_narrow_the_rows_and_stay_in_the_url(page, site_url, bank):
    topic = _biggest_topic(bank)
    in_topic = {q.id for q in bank.in_topic(topic.id)}
    page.goto(f"{site_url}/questions/")
    page.wait_for_selector(".gp-list-filters select")
    assert len(_visible_rows(page)) == len(bank.questions)
    page.select_option('.gp-list-filters select[name="topic"]', topic.id)
    assert set(_visible_rows(page)) == in_topic
    kind = bank.in_topic(topic.id)[0].type
    page.select_option('.gp-list-filters select[name="type"]', kind)
    expected = {q.id for q in bank.in_topic(topic.id) if q.type == kind}
    assert set(_visible_rows(page)) == expected and len(expected) < len(bank.questions)
    assert page.locator(".gp-list-count").get_attribute("data-shown") == str(len(expected))
    query = parse_qs(urlparse(page.url).query)
    assert query == {"topic": [topic.id], "type": [kind]}
    page.reload()
    page.wait_for_selector(".gp-list-filters select")
    assert page.locator('.gp-list-filters select[name="topic"]').input_value() == topic.id
    assert set(_visible_rows(page)) == expected
    # the learner's state is a filter too
    one = sorted(expected)[0]
    page.evaluate(f"""localStorage.setItem('{STATE_KEY}', JSON.stringify(
        {{version: 1, questions: {{'{one}': {{state: 'review', at: '2026-01-01T00:00:00Z'}}}}}}))""")
    page.goto(f"{site_url}/questions/?state=review")
    page.wait_for_selector(".gp-list-filters select")
    assert _visible_rows(page) == [one]
    page.goto(f"{site_url}/questions/?q={one}")
    page.wait_for_selector(".gp-list-filters select")
    assert one in _visible_rows(page) and len(_visible_rows(page)) < len(bank.questions)
    assert page.console_errors == []


def _question_id(url: str) -> str:
    m = re.search(r"/q/([a-z0-9-]+)/", url)
    assert m, url
    return m.group(1)


@slow
def test_quiz_reveal_mark_and_next_with_the_keyboard(page, site_url, bank):
    topic = _biggest_topic(bank)
    in_topic = {q.id for q in bank.in_topic(topic.id)}
    page.goto(f"{site_url}/")
    page.evaluate("localStorage.setItem('genprep.reading', '1')")  # the quiz hides the answer even in reading mode
    page.goto(f"{site_url}/quiz/?topic={topic.id}")
    page.wait_for_selector(".gp-quiz-count[data-pool]")
    assert page.locator(".gp-quiz-count").get_attribute("data-pool") == str(len(in_topic))
    with page.expect_navigation():
        page.locator(".gp-quiz-go").click()
    first = _question_id(page.url)
    assert first in in_topic and "quiz=1" in page.url
    page.wait_for_selector(".gp-quiz-bar")
    assert page.locator(".gp-quiz-keys").is_visible()  # the shortcuts are on the page
    head = page.locator(".tabbed-block:visible").first.locator(".gp-answer-head")
    assert not head.is_visible()
    page.keyboard.press(" ")
    assert head.is_visible()
    page.keyboard.press("k")
    assert page.locator(".gp-state").get_attribute("data-current") == "known"
    assert _state(page)["questions"][first]["state"] == "known"
    page.keyboard.press("?")
    assert not page.locator(".gp-quiz-keys").is_visible()
    with page.expect_navigation():
        page.keyboard.press("n")
    second = _question_id(page.url)
    assert second in in_topic and second != first
    assert parse_qs(urlparse(page.url).query) == {"quiz": ["1"], "topic": [topic.id]}
    page.wait_for_selector(".gp-quiz-bar")
    page.keyboard.press("r")
    assert _state(page)["questions"][second]["state"] == "review"
    assert page.console_errors == []


@slow
def test_export_then_import_round_trips_the_state(page, site_url, bank, tmp_path):
    ids = sorted(bank.questions)[:3]
    saved = {"version": 1, "questions": {ids[0]: {"state": "known", "at": "2026-11-01T10:00:00.000Z"},
                                         ids[1]: {"state": "review", "at": "2026-11-02T10:00:00.000Z"}}}
    page.goto(f"{site_url}/questions/")
    page.evaluate(f"localStorage.setItem('{STATE_KEY}', {json.dumps(json.dumps(saved))})")
    page.reload()
    page.wait_for_selector(".gp-export-button")
    with page.expect_download() as download:
        page.locator(".gp-export-button").click()
    exported = json.loads(open(download.value.path(), encoding="utf-8").read())
    assert exported["format"] == "genprep-progress" and exported["version"] == 1
    assert exported["questions"] == saved["questions"]
    assert download.value.suggested_filename.startswith("genprep-progress-")

    page.evaluate(f"localStorage.removeItem('{STATE_KEY}')")
    page.reload()
    page.wait_for_selector(".gp-import-file", state="attached")
    assert page.locator(f'.gp-qstate[data-question="{ids[0]}"]').get_attribute("data-state") == "unseen"
    file = tmp_path / "progress.json"
    file.write_text(json.dumps(exported), encoding="utf-8")
    page.locator(".gp-import-file").first.set_input_files(str(file))
    message = page.locator(".gp-export-message").first
    page.wait_for_function("document.querySelector('.gp-export-message').textContent.length > 0")
    assert "1 known, 1 for review" in message.text_content()
    assert _state(page)["questions"] == saved["questions"]
    assert page.locator(f'.gp-qstate[data-question="{ids[0]}"]').get_attribute("data-state") == "known"
    assert page.console_errors == []


BAD_FILES = [
    ("not json {", "not valid JSON"),
    (json.dumps({"questions": {}}), '"format": "genprep-progress" is missing'),
    (json.dumps({"format": "genprep-progress", "version": 7, "questions": {}}), "Unsupported version 7"),
    (json.dumps({"format": "genprep-progress", "version": 1, "questions": {"vae-elbo": {"state": "mastered"}}}),
     '"vae-elbo": state is "mastered"; expected "known" or "review"'),
]


@slow
def test_a_malformed_import_file_says_what_is_wrong_and_changes_nothing(page, site_url, bank):
    one = sorted(bank.questions)[0]
    saved = {"version": 1, "questions": {one: {"state": "known", "at": "2026-11-01T10:00:00.000Z"}}}
    page.goto(f"{site_url}/plan/")
    page.evaluate(f"localStorage.setItem('{STATE_KEY}', {json.dumps(json.dumps(saved))})")
    page.reload()
    page.wait_for_selector(".gp-import-file", state="attached")
    for content, expected in BAD_FILES:
        page.locator(".gp-import-file").first.set_input_files(
            files=[{"name": "bad.json", "mimeType": "application/json", "buffer": content.encode()}])
        page.wait_for_function("document.querySelector('.gp-export-message').textContent.includes('bad.json')")
        text = page.locator(".gp-export-message").first.text_content()
        assert expected in text and "Nothing imported from bad.json" in text, (content, text)
        assert "gp-error" in page.locator(".gp-export-message").first.get_attribute("class")
        page.evaluate("document.querySelector('.gp-export-message').textContent = ''")
    assert _state(page) == saved
    assert page.console_errors == []


@slow
def test_the_study_pages_follow_the_english_mode(page, site_url, bank):
    try:
        from test_lang_and_search import VISIBLE_CHINESE
    except ImportError:
        pytest.skip("the English mode's test helpers (tests/site/test_lang_and_search.py) are missing")
    q = _with_follow_ups(bank)
    page.goto(f"{site_url}/")
    page.evaluate("localStorage.setItem('genprep.lang', 'en')")
    for path in ["plan/", "questions/", "quiz/", f"q/{q.id}/?quiz=1"]:
        page.goto(f"{site_url}/{path}")
        page.wait_for_selector(".gp-lang-switch")
        page.wait_for_function("document.querySelector('.gp-progress[data-known], .gp-list-count[data-shown], "
                               ".gp-quiz-count[data-pool], .gp-quiz-pool[data-pool]')")
        if "quiz=1" in path:
            page.keyboard.press(" ")
        chinese = page.evaluate(VISIBLE_CHINESE)
        assert chinese == [], f"/{path} in English mode still shows Chinese: {chinese[:8]}"
        options = page.locator("select.gp-study-select option").all_inner_texts()
        assert not any(re.search(r"[\u3400-\u9fff]", o) for o in options), options[:5]
    assert page.console_errors == []


@slow
def test_the_study_pages_fit_a_phone(page, site_url, bank):
    page.set_viewport_size({"width": 390, "height": 844})
    q = bank.in_topic(_biggest_topic(bank).id)[0]
    wide = {}
    for path in ["plan/", "questions/", "quiz/", f"q/{q.id}/?quiz=1"]:
        page.goto(f"{site_url}/{path}")
        page.wait_for_function("document.querySelector('.gp-progress[data-known], .gp-list-count[data-shown], "
                               ".gp-quiz-count[data-pool], .gp-quiz-pool[data-pool]')")
        over = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if over > 1:
            wide[path] = over
    assert wide == {}, f"study pages wider than a 390 px phone (px too wide): {wide}"
