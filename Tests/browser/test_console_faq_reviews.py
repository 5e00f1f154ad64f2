"""The console's reviews queue and FAQ screens in real Chromium against `serve --demo`:
keyboard moderation (a approve, x reject, s spam, r reply), the pending badge, bulk actions,
reordering the FAQ with the keyboard, the editor's live preview — and naughty strings in
reviews, replies, questions and answers shown as inert text."""

from __future__ import annotations

import time
import uuid

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from console_support import (  # noqa: F401  (fixtures are used by name)
    ADMIN, _form_extras, admin_api, assert_no_alert, console_server, injected_elements, naughty_strings, shots, sign_in, wait_for,
)


def post_reviews(server, payloads: list[dict]) -> list[int]:
    prepared = [_form_extras(server, "review") for _ in payloads]
    time.sleep(max((w for _, w in prepared), default=0) + 0.2)
    ids = []
    for (extra, _), payload in zip(prepared, payloads):
        r = requests.post(server.url("/api/v1/reviews"), json={**payload, **extra}, timeout=15)
        assert r.status_code == 201, f"{r.status_code} {r.text}"
        ids.append(r.json()["id"])
    return ids


def status_of(admin_api, review_id: int) -> str:
    return admin_api.get(f"/api/v1/admin/reviews/{review_id}").json()["status"]


def cards(driver) -> list:
    return driver.find_elements(By.CSS_SELECTOR, "#review-queue .review-card")


def current_id(driver) -> int:
    return int(driver.execute_script("return document.querySelector('.review-card.current')?.dataset.id ?? 0"))


def press(driver, key: str) -> None:
    driver.switch_to.active_element.send_keys(key)


def test_keyboard_moderation_queue(driver, console_server, admin_api, shots):  # noqa: F811
    tag = uuid.uuid4().hex[:6]
    ids = post_reviews(console_server, [{"rating": r, "content": f"Review {tag} {r}", "name": f"Visitor {r}"} for r in (5, 1, 3, 4)])
    sign_in(driver, console_server, ADMIN, "/admin/reviews")
    WebDriverWait(driver, 10).until(lambda d: len(cards(d)) >= 4)
    badge = driver.find_element(By.CSS_SELECTOR, '[data-nav="reviews"] .nav-badge')
    pending_before = admin_api.get("/api/v1/admin/reviews", params={"status": "pending"}).json()["total"]
    WebDriverWait(driver, 10).until(lambda d: badge.text == str(pending_before))
    shots(driver, "reviews-queue")

    # Newest first: the current card is the last one posted. a approves it and the queue moves on.
    first = current_id(driver)
    assert first == ids[-1]
    driver.find_element(By.CSS_SELECTOR, ".review-card.current").click()
    press(driver, "a")
    WebDriverWait(driver, 10).until(lambda d: status_of(admin_api, first) == "approved")
    WebDriverWait(driver, 10).until(lambda d: current_id(d) not in (0, first))
    second = current_id(driver)
    press(driver, "x")
    WebDriverWait(driver, 10).until(lambda d: status_of(admin_api, second) == "rejected")
    WebDriverWait(driver, 10).until(lambda d: current_id(d) not in (0, second))
    third = current_id(driver)
    press(driver, "s")
    WebDriverWait(driver, 10).until(lambda d: status_of(admin_api, third) == "spam")
    WebDriverWait(driver, 10).until(lambda d: badge.text == str(pending_before - 3))

    # r opens the reply editor for the current review; the reply is saved.
    WebDriverWait(driver, 10).until(lambda d: current_id(d) != 0)
    target = current_id(driver)
    press(driver, "r")
    box = wait_for(driver, "dialog textarea, .modal textarea")
    box.send_keys("Thanks for the honest words!")
    driver.find_element(By.XPATH, "//button[normalize-space()='Save reply']").click()
    WebDriverWait(driver, 10).until(lambda d: admin_api.get(f"/api/v1/admin/reviews/{target}").json().get("reply") == "Thanks for the honest words!")

    # Bulk: check two and approve them in one request.
    WebDriverWait(driver, 10).until(lambda d: len(cards(d)) >= 1)
    remaining = [c.get_attribute("data-id") for c in cards(driver)][:2]
    for rid in remaining:
        driver.find_element(By.CSS_SELECTOR, f'.review-card[data-id="{rid}"] input[type=checkbox]').click()
    driver.find_element(By.ID, "bulk-approve").click()
    WebDriverWait(driver, 10).until(lambda d: all(status_of(admin_api, int(r)) == "approved" for r in remaining))
    # Approved ones are public now.
    public = requests.get(console_server.url("/api/v1/reviews"), params={"perPage": 50}, timeout=10).json()["items"]
    assert first in [r["id"] for r in public] and second not in [r["id"] for r in public]


def test_faq_reorder_by_keyboard_and_live_preview(driver, console_server, admin_api, shots):  # noqa: F811
    sign_in(driver, console_server, ADMIN, "/admin/faq")
    rows = WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#faq-table tbody tr[data-id]"))
    order = [r.get_attribute("data-id") for r in rows]
    assert len(order) >= 2
    rows[0].click()
    driver.execute_script("document.querySelector('#faq-table tbody tr[data-id]').focus()")
    driver.switch_to.active_element.send_keys(Keys.ALT, Keys.ARROW_DOWN)
    ids_now = "return [...document.querySelectorAll('#faq-table tbody tr[data-id]')].map((r) => r.dataset.id)"  # one call: rows re-render
    WebDriverWait(driver, 10).until(lambda d: d.execute_script(ids_now)[:2] == [order[1], order[0]])
    assert driver.execute_script("return document.activeElement.dataset.id") == order[0], "focus did not follow the moved entry"
    public = requests.get(console_server.url("/api/v1/faq"), timeout=10).json()["entries"]
    assert [str(e["id"]) for e in public][:2] == [order[1], order[0]]

    # The editor's preview is the server's rendering: Markdown as markup, HTML as text.
    driver.get(console_server.url("/admin/faq/new"))
    answer = wait_for(driver, "#faq-form textarea[name=answer]")
    answer.send_keys("**Fresh** daily <img src=x onerror=window.__xss=1> [menu](javascript:alert(1))")
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#faq-preview strong"))
    preview = driver.find_element(By.ID, "faq-preview")
    assert "<img src=x onerror=window.__xss=1>" in preview.text
    assert preview.find_elements(By.CSS_SELECTOR, "a") == [] and preview.find_elements(By.CSS_SELECTOR, "img") == []
    driver.find_element(By.CSS_SELECTOR, "#faq-form input[name=question]").send_keys("Is the bread fresh?")
    driver.find_element(By.CSS_SELECTOR, "#faq-form button[type=submit]").click()
    WebDriverWait(driver, 10).until(lambda d: d.current_url.split("?")[0].endswith("/admin/faq"))
    assert any(e["question"] == "Is the bread fresh?" and e["status"] == "draft" for e in admin_api.get("/api/v1/admin/faq/entries").json()["items"])
    assert injected_elements(driver) == []
    shots(driver, "faq-list")


DRAG = """
const [from, to] = arguments;
const rows = [...document.querySelectorAll('#faq-table tbody tr[data-id]')];
const data = new DataTransfer();
const fire = (el, type) => el.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: data}));
fire(rows[from], 'dragstart'); fire(rows[to], 'dragover'); fire(rows[to], 'drop'); fire(rows[from], 'dragend');
"""


def test_faq_drag_reorder_categories_and_translation(driver, console_server, admin_api, shots):  # noqa: F811
    sign_in(driver, console_server, ADMIN, "/admin/faq")
    ids_now = "return [...document.querySelectorAll('#faq-table tbody tr[data-id]')].map((r) => r.dataset.id)"
    WebDriverWait(driver, 10).until(lambda d: len(d.execute_script(ids_now)) >= 3)
    order = driver.execute_script(ids_now)
    # Dragging the third row onto the first puts it first and shifts the others down.
    driver.execute_script(DRAG, 2, 0)
    expected = [order[2], order[0], order[1]] + order[3:]
    WebDriverWait(driver, 10).until(lambda d: d.execute_script(ids_now) == expected)
    public = requests.get(console_server.url("/api/v1/faq"), timeout=10).json()["entries"]
    assert [str(e["id"]) for e in public][:3] == expected[:3]

    # Categories: add, rename in place, move, delete (its entries stay, without a category).
    name = f"Gifts {uuid.uuid4().hex[:6]}"
    driver.execute_script("window.prompt = () => arguments[0]; window.confirm = () => true;", name)
    driver.find_element(By.ID, "new-category").click()
    find = "return [...document.querySelectorAll('#faq-category-list li')].find((li) => li.querySelector('input').value === arguments[0]) ?? null"
    item = WebDriverWait(driver, 10).until(lambda d: d.execute_script(find, name))
    field = item.find_element(By.CSS_SELECTOR, "input[name=name]")
    field.clear()
    field.send_keys(f"{name} and cards", Keys.ENTER)
    WebDriverWait(driver, 10).until(lambda d: d.execute_script(find, f"{name} and cards"))
    cats = admin_api.get("/api/v1/admin/faq/categories").json()["items"]
    mine = next(c for c in cats if c["name"] == f"{name} and cards")
    assert cats[-1]["id"] == mine["id"], "a new category goes last"
    driver.execute_script(find, f"{name} and cards").find_element(By.CSS_SELECTOR, "button[aria-label$=' up']").click()
    WebDriverWait(driver, 10).until(lambda d: admin_api.get("/api/v1/admin/faq/categories").json()["items"][-2]["id"] == mine["id"])
    WebDriverWait(driver, 10).until(lambda d: d.execute_script(
        "return [...document.querySelectorAll('#faq-category-list li input')].map((i) => i.value).slice(-2)[0]") == f"{name} and cards")
    driver.execute_script(find, f"{name} and cards").find_element(By.CSS_SELECTOR, "button[aria-label^='Delete category']").click()
    WebDriverWait(driver, 10).until(lambda d: d.execute_script(find, f"{name} and cards") is None)
    assert all(c["id"] != mine["id"] for c in admin_api.get("/api/v1/admin/faq/categories").json()["items"])

    # A translation is prefilled from the entry and keeps its slug, so #faq-<slug> works in both languages.
    source = admin_api.get(f"/api/v1/admin/faq/entries/{expected[0]}").json()
    driver.get(console_server.url(f"/admin/faq/{source['id']}"))
    wait_for(driver, "#faq-translate").click()
    question = wait_for(driver, "#faq-form input[name=question]")
    WebDriverWait(driver, 10).until(lambda d: question.get_attribute("value") == source["question"])
    assert source["slug"] in driver.find_element(By.ID, "faq-translation-of").text
    question.clear()
    question.send_keys("Übersetzte Frage?")
    driver.find_element(By.CSS_SELECTOR, "#faq-form select[name=status] option[value=published]").click()
    driver.find_element(By.CSS_SELECTOR, "#faq-form button[type=submit]").click()
    WebDriverWait(driver, 10).until(lambda d: "locale=de" in d.current_url)
    german = [e for e in admin_api.get("/api/v1/admin/faq/entries", params={"locale": "de"}).json()["items"] if e["question"] == "Übersetzte Frage?"]
    assert len(german) == 1 and german[0]["slug"] == source["slug"]
    driver.get(console_server.url(f"/admin/faq/{source['id']}"))
    versions = wait_for(driver, "#faq-versions")
    WebDriverWait(driver, 10).until(lambda d: "de: Übersetzte Frage?" in versions.text)
    shots(driver, "faq-translation")


def test_naughty_strings_in_reviews_replies_and_faq_are_inert_in_the_console(driver, console_server, admin_api):  # noqa: F811
    payloads = naughty_strings()
    tag = uuid.uuid4().hex[:6]
    ids = post_reviews(console_server, [{"rating": 2, "title": p[:120], "content": f"{p} {tag}{i}", "name": p[:100]} for i, p in enumerate(payloads)])
    for rid, p in zip(ids, payloads):
        assert admin_api.request("PUT", f"/api/v1/admin/reviews/{rid}/reply", json={"text": p}).status_code == 200
    for i, p in enumerate(payloads):
        r = admin_api.post("/api/v1/admin/faq/entries", json={"question": f"{p} {tag}{i}"[:300], "answer": f"{p}\n\n**{p}** [x]({p})", "slug": f"naughty-{tag}-{i}"})
        assert r.status_code == 201, r.text
    sign_in(driver, console_server, ADMIN, "/admin/reviews?status=all")
    WebDriverWait(driver, 10).until(lambda d: len(cards(d)) >= 10)
    assert_no_alert(driver)
    assert injected_elements(driver) == []
    text = driver.find_element(By.ID, "review-queue").text
    assert "<script>window.__xss=1</script>" in text
    driver.get(console_server.url("/admin/faq"))
    WebDriverWait(driver, 10).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#faq-table tbody tr[data-id]")) >= len(payloads))
    assert_no_alert(driver)
    assert injected_elements(driver) == []
    first = admin_api.get("/api/v1/admin/faq/entries").json()["items"]
    naughty_id = next(e["id"] for e in first if e["slug"] == f"naughty-{tag}-3")
    driver.get(console_server.url(f"/admin/faq/{naughty_id}"))
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#faq-preview p"))
    assert_no_alert(driver)
    assert injected_elements(driver) == []
    assert driver.execute_script("return window.__xss") is None
