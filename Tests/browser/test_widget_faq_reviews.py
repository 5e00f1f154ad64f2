"""<frontdesk-faq>, <frontdesk-reviews> and the chat's FAQ suggestions in real Chromium, on a
site of another origin, against `serve --demo` (whose FAQ and reviews the modules seed).

JSON-LD is read from the rendered page with extruct, the way a crawler reads it, and checked
for the properties Google's rich-result documentation requires: FAQPage (mainEntity → Question
with name and acceptedAnswer.text) and review snippets (Review: author.name, reviewRating.ratingValue,
an item reviewed with a name; AggregateRating: ratingValue and reviewCount or ratingCount).
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import extruct
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from console_support import _form_extras, naughty_strings
from widget_support import AGENT_EMAIL, AGENT_PASSWORD, active_in_shadow, fill, inner, shadow, wait_for, widget_env  # noqa: F401


def admin(env) -> requests.Session:
    """A console session for the admin API (Origin and CSRF as the console sends them)."""
    s = requests.Session()
    s.headers["Origin"] = env.server.base_url.rstrip("/")
    r = s.post(env.url("/api/v1/admin/session"), json={"email": AGENT_EMAIL, "password": AGENT_PASSWORD}, timeout=10)
    assert r.status_code == 200, r.text
    s.headers["X-CSRF-Token"] = r.json()["csrfToken"]
    return s


def json_ld(driver) -> list[dict]:
    return extruct.extract(driver.page_source, base_url=driver.current_url, syntaxes=["json-ld"], uniform=True)["json-ld"]


def of_type(items: list[dict], kind: str) -> list[dict]:
    return [i for i in items if i.get("@type") == kind]


def shot(driver, artifacts_dir: Path, name: str) -> None:
    driver.save_screenshot(str(artifacts_dir / f"{name}.png"))


def faq_root(driver):
    return shadow(driver, "frontdesk-faq", ".q")


def test_faq_search_accordion_deep_link_votes_and_json_ld(driver, widget_env, artifacts_dir):  # noqa: F811
    env = widget_env
    driver.get(env.page("faq.html"))
    root = faq_root(driver)
    questions = [b.text for b in root.find_elements(By.CSS_SELECTOR, ".q")]
    assert "Which breads are gluten-free?" in questions and "When are you open?" in questions
    assert "Do you run baking classes?" not in questions, "a draft is public"

    # Search as you type: highlighted, and choosing a result opens the entry with its deep link.
    inner(root, "input[type=search]").send_keys("gluten")
    hit = wait_for(driver, lambda d: next(iter(root.find_elements(By.CSS_SELECTOR, ".hit")), None), "no search results appeared")
    assert "gluten" in hit.find_element(By.CSS_SELECTOR, "mark").text.lower()
    assert "result" in inner(root, "[role=status]").text
    hit.click()
    panel = inner(root, "#faq-which-breads-are-gluten-free")
    wait_for(driver, lambda d: panel.is_displayed(), "the chosen entry did not open")
    assert driver.execute_script("return location.hash") == "#faq-which-breads-are-gluten-free"
    # The answer's Markdown arrived as markup: emphasis and a link with rel=nofollow noopener.
    assert panel.find_element(By.CSS_SELECTOR, "em").text == "buckwheat loaf"
    assert panel.find_element(By.CSS_SELECTOR, "a").get_attribute("rel") == "nofollow noopener"
    shot(driver, artifacts_dir, "faq-widget-search")

    # Keyboard: arrows move between questions, Enter opens, aria-expanded follows.
    first = root.find_elements(By.CSS_SELECTOR, ".q")[0]
    driver.execute_script("arguments[0].focus()", first)
    first.send_keys(Keys.ARROW_DOWN)
    second = root.find_elements(By.CSS_SELECTOR, ".q")[1]
    assert active_in_shadow(driver)["id"] == second.get_attribute("id")
    second.send_keys(Keys.ENTER)
    wait_for(driver, lambda d: second.get_attribute("aria-expanded") == "true", "Enter did not open the question")

    # Helpful vote: once per visitor, counted on the server.
    entry_id = env.rows("SELECT id FROM faq_entries WHERE slug = 'which-breads-are-gluten-free'")[0][0]
    before = env.rows("SELECT helpful_yes FROM faq_entries WHERE id = ?", entry_id)[0][0]
    panel.find_element(By.CSS_SELECTOR, ".v button").click()
    wait_for(driver, lambda d: "Thanks" in panel.text, "no thanks after voting")
    wait_for(driver, lambda d: env.rows("SELECT helpful_yes FROM faq_entries WHERE id = ?", entry_id)[0][0] == before + 1, "the vote was not counted")
    assert env.rows("SELECT views FROM faq_entries WHERE id = ?", entry_id)[0][0] >= 1

    # FAQPage JSON-LD as a crawler sees it.
    pages = of_type(json_ld(driver), "FAQPage")
    assert len(pages) == 1
    entities = pages[0]["mainEntity"]
    assert {e["name"] for e in entities} == set(questions)
    for e in entities:
        assert e["@type"] == "Question" and e["acceptedAnswer"]["@type"] == "Answer" and e["acceptedAnswer"]["text"].strip()

    # A deep link opens and scrolls to its entry on load.
    driver.get(env.page("faq.html") + "#faq-when-are-you-open")
    root = faq_root(driver)
    target = inner(root, "#faq-when-are-you-open")
    wait_for(driver, lambda d: target.is_displayed(), "#faq-when-are-you-open did not open")
    assert active_in_shadow(driver)["id"] == "q-when-are-you-open"


def test_review_from_submission_through_moderation_to_list_and_average(driver, widget_env, artifacts_dir):  # noqa: F811
    env = widget_env
    driver.get(env.page("faq.html"))
    root = shadow(driver, "frontdesk-reviews", "article")
    summary_before = requests.get(env.url("/api/v1/reviews/summary"), timeout=10).json()
    assert f"{summary_before['count']} reviews" in root.find_element(By.CSS_SELECTOR, "p").text

    # Rich-result markup for the approved reviews.
    items = [i for i in json_ld(driver) if "aggregateRating" in i]
    assert len(items) == 1 and items[0]["name"] == "Frontdesk Bakery"
    aggregate = items[0]["aggregateRating"]
    assert aggregate["@type"] == "AggregateRating" and aggregate["ratingValue"] == summary_before["average"]
    assert aggregate["reviewCount"] == summary_before["count"]
    for review in items[0]["review"]:
        assert review["@type"] == "Review" and review["author"]["name"] and review["reviewRating"]["ratingValue"] in range(1, 6)

    # A visitor writes one (the form waits out the fill time and solves the proof of work).
    text = f"Cardamom buns worth the queue {uuid.uuid4().hex[:8]}"
    wait_for(driver, lambda d: root.find_elements(By.CSS_SELECTOR, "form textarea"), "no review form")
    root.find_elements(By.CSS_SELECTOR, "input[name=rating]")[4].click()
    fill(root, {"content": text, "name": "Greta"})
    inner(root, "form button[type=submit]").click()
    wait_for(driver, lambda d: "Thank you" in inner(root, "form").text, lambda: f"no thanks: {inner(root, 'form').text}", timeout=30)
    rows = env.rows("SELECT id, status, rating FROM reviews WHERE content = ?", text)
    assert len(rows) == 1 and rows[0][1] == "pending" and rows[0][2] == 5
    review_id = rows[0][0]

    # Pending is not public.
    driver.refresh()
    root = shadow(driver, "frontdesk-reviews", "article")
    assert text not in root.find_element(By.CSS_SELECTOR, "div[aria-live]").text

    # The owner approves it in the console API and replies; the list and the average follow.
    session = admin(env)
    assert session.post(env.url("/api/v1/admin/reviews/moderation"), json={"ids": [review_id], "status": "approved"}, timeout=10).status_code == 200
    assert session.put(env.url(f"/api/v1/admin/reviews/{review_id}/reply"), json={"text": "See you on Saturday!"}, timeout=10).status_code == 200
    driver.refresh()
    root = shadow(driver, "frontdesk-reviews", "article")
    wait_for(driver, lambda d: text in root.find_element(By.CSS_SELECTOR, "div[aria-live]").text, "the approved review is not listed")
    assert "See you on Saturday!" in root.find_element(By.CSS_SELECTOR, "div[aria-live]").text
    after = requests.get(env.url("/api/v1/reviews/summary"), timeout=10).json()
    assert after["count"] == summary_before["count"] + 1
    assert f"{after['average']} out of 5" in root.find_element(By.CSS_SELECTOR, "p").text
    shot(driver, artifacts_dir, "reviews-widget-after-moderation")


def test_no_script_runs_from_payloads_in_faq_or_reviews(driver, widget_env):  # noqa: F811
    env = widget_env
    session = admin(env)
    payloads = naughty_strings()
    marker = uuid.uuid4().hex[:6]
    for i, p in enumerate(payloads):
        r = session.post(env.url("/api/v1/admin/faq/entries"), json={
            "question": f"{p} {marker}{i}"[:300], "answer": f"{p}\n\n[x]({p}) **{p}** `{p}`", "status": "published", "slug": f"naughty-{marker}-{i}"}, timeout=10)
        assert r.status_code == 201, r.text
    prepared = [_form_extras(env.server, "review") for _ in payloads]
    # The tokens are signed with the time they were issued; the server takes them once the form's
    # minimum fill time (which the form description states) has passed, as a person's would.
    time.sleep(max(wait for _, wait in prepared) + 0.2)
    ids = []
    for i, (p, (extra, _)) in enumerate(zip(payloads, prepared)):
        r = requests.post(env.url("/api/v1/reviews"), json={"rating": 3, "title": p[:120], "content": f"{p} {marker}{i}", "name": p[:100], **extra}, timeout=10)
        assert r.status_code == 201, f"{p!r}: {r.status_code} {r.text}"
        ids.append(r.json()["id"])
    assert session.post(env.url("/api/v1/admin/reviews/moderation"), json={"ids": ids, "status": "approved"}, timeout=10).status_code == 200
    for rid, p in zip(ids, payloads):
        session.put(env.url(f"/api/v1/admin/reviews/{rid}/reply"), json={"text": p}, timeout=10)

    driver.get(env.page("faq.html"))
    faq = faq_root(driver)
    reviews = shadow(driver, "frontdesk-reviews", "article")
    for q in faq.find_elements(By.CSS_SELECTOR, ".q")[:60]:
        driver.execute_script("arguments[0].click()", q)
    inner(faq, "input[type=search]").send_keys("script alert")
    # The search answered: its status line says how many entries (or none) match.
    wait_for(driver, lambda d: inner(faq, ".st").text.strip(), "the search never answered")
    assert driver.execute_script("return window.__xss") is None
    injected = driver.execute_script("""
        const found = [];
        for (const host of document.querySelectorAll('frontdesk-faq, frontdesk-reviews'))
          for (const el of host.shadowRoot.querySelectorAll('script, img, svg, iframe, style, body, div[onmouseover], [onerror], [onload]'))
            found.push(host.localName + ' ' + el.localName);
        for (const a of document.querySelectorAll('*')) if (a.shadowRoot) for (const l of a.shadowRoot.querySelectorAll('a[href]'))
          if (!/^(https?:|mailto:|\\/|#|[^:]*$)/i.test(l.getAttribute('href'))) found.push('href ' + l.getAttribute('href'));
        return found;""")
    assert injected == [], injected
    # Shown as text: the payloads are readable, verbatim.
    assert "<script>window.__xss=1</script>" in reviews.find_element(By.CSS_SELECTOR, "div[aria-live]").text or \
        "<script>window.__xss=1</script>" in faq.find_element(By.CSS_SELECTOR, "div").text
    assert driver.execute_script("return window.__xss") is None


def test_chat_shows_faq_suggestions_while_typing_and_counts_a_deflection(driver, widget_env, artifacts_dir):  # noqa: F811
    env = widget_env
    driver.get(env.page("faq.html"))
    faq_root(driver)
    bubble = shadow(driver, "frontdesk-chat", "button.bubble")
    inner(bubble, "button.bubble").click()
    chat = shadow(driver, "frontdesk-chat", "textarea")
    inner(chat, "textarea").send_keys("is your bread gluten free")
    suggestion = wait_for(driver, lambda d: next((b for b in chat.find_elements(By.CSS_SELECTOR, ".faq-q") if "gluten" in b.text.lower()), None),
                          lambda: f"no FAQ suggestion; the chat shows {[b.text for b in chat.find_elements(By.CSS_SELECTOR, '.faq-q')]}")
    assert len(chat.find_elements(By.CSS_SELECTOR, ".faq-q")) <= 3
    shot(driver, artifacts_dir, "chat-faq-suggestions")
    entry_id = env.rows("SELECT id FROM faq_entries WHERE slug = 'which-breads-are-gluten-free'")[0][0]
    before = env.rows("SELECT deflections FROM faq_entries WHERE id = ?", entry_id)[0][0]
    suggestion.click()
    assert suggestion.get_attribute("aria-expanded") == "true"
    # The visitor read the answer and closes the chat without sending: a deflection.
    driver.execute_script("window.frontdesk.close()")
    wait_for(driver, lambda d: env.rows("SELECT deflections FROM faq_entries WHERE id = ?", entry_id)[0][0] == before + 1, "no deflection counted")
