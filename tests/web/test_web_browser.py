"""The listeners' page and the operator view in a real browser (headless Chromium).

One station and one browser for the whole module; each test leaves the page where the
next can start from a fresh load.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from radio.messages import OnAirNow
from tests.web.station import (
    CHAPTER_START,
    TOKEN,
    XSS_IMG_ID,
    XSS_IMG_TITLE,
    XSS_SCRIPT_ID,
    XSS_SCRIPT_TITLE,
    Station,
)


def wait_for(check: Callable[[], Any], timeout: float = 5.0, every: float = 0.05) -> Any:
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    deadline = time.monotonic() + timeout
    while True:
        try:  # the page may be between two documents
            value = check()
        except (NoSuchElementException, StaleElementReferenceException):
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout}s: {check}")
        time.sleep(every)


def severe_console_messages(browser: Any) -> list[str]:
    return [entry["message"] for entry in browser.get_log("browser")
            if entry["level"] == "SEVERE"]


def find(browser: Any, css: str) -> Any:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.CSS_SELECTOR, css)


@pytest.mark.slow
def test_page_loads_without_console_errors(browser: Any, station: Station,
                                           artifacts_dir: Any) -> None:
    paper = station.papers[0]
    station.publish(OnAirNow(mode="live", show_id="daily-2026-04-30",
                             show_title="Daily papers, 30 April 2026", seq=0, speaker="Mira",
                             text=f"Our first paper today: {paper.title}.",
                             paper_id=paper.arxiv_id, title=paper.title,
                             authors=paper.authors, duration_s=6.0))
    browser.get(station.base_url + "/")
    assert find(browser, "#live-h").text == "Listen live"
    wait_for(lambda: find(browser, "#now-speaker").text == "Mira")
    assert find(browser, "label[for=q]").text == "Search papers"
    assert browser.execute_script("return document.querySelectorAll('time.local').length") >= 2
    assert "UTC" not in find(browser, "#schedule time.local").text  # shown in local time
    browser.save_screenshot(str(artifacts_dir / "listener-page.png"))
    assert severe_console_messages(browser) == []


def test_now_playing_changes_without_reload_within_two_seconds(browser: Any,
                                                               station: Station) -> None:
    browser.get(station.base_url + "/")
    wait_for(lambda: browser.execute_script(
        "return document.getElementById('now').hasAttribute('data-updated')"))
    browser.execute_script("window.__sameDocument = 'yes'")
    paper = station.papers[2]
    line = f"A new line at {time.time():.3f} about {paper.title}"
    started = time.monotonic()
    station.publish(OnAirNow(mode="live", show_id="daily-2026-04-30",
                             show_title="Daily papers, 30 April 2026", seq=2, speaker="Alex",
                             text=line, paper_id=paper.arxiv_id, title=paper.title,
                             authors=paper.authors, duration_s=5.0))
    wait_for(lambda: find(browser, "#now-line").text == line, timeout=2.0, every=0.02)
    elapsed = time.monotonic() - started
    print(f"now-playing updated {elapsed * 1000:.0f} ms after the onair/now was published")
    assert find(browser, "#now-speaker").text == "Alex"
    assert find(browser, "#now-paper-link").text == paper.title
    assert find(browser, "#now-arxiv").get_attribute("href") == \
        f"https://arxiv.org/abs/{paper.arxiv_id}"
    assert browser.execute_script("return window.__sameDocument") == "yes"


@pytest.mark.slow
def test_live_player_plays_the_stream(browser: Any, station: Station) -> None:
    browser.get(station.base_url + "/")
    find(browser, "#live-toggle").click()
    wait_for(lambda: browser.execute_script(
        "return document.getElementById('live-audio').currentTime") > 0.5, timeout=15)
    assert "Live" in find(browser, "#live-status").text
    assert browser.execute_script(
        "return new URL(document.getElementById('live-audio').currentSrc).origin"
        " === location.origin")
    find(browser, "#live-toggle").click()  # stop: the next tests need no stream
    wait_for(lambda: find(browser, "#live-status").text == "Stopped.")


@pytest.mark.slow
def test_live_player_reconnects_when_the_stream_drops(browser: Any, station: Station) -> None:
    audio = "document.getElementById('live-audio')"
    station.stream["cut_after"] = 24 * 1024  # about 3 s of audio, then the stream ends
    try:
        browser.get(station.base_url + "/")
        before = station.stream.get("connections", 0)
        find(browser, "#live-toggle").click()
        wait_for(lambda: browser.execute_script(f"return {audio}.currentTime") > 0.5, timeout=10)
        first = browser.execute_script(f"return {audio}.currentSrc")
        station.stream["cut_after"] = None  # the next connection stays up
        wait_for(lambda: station.stream.get("connections", 0) >= before + 2, timeout=20,
                 every=0.2)
        wait_for(lambda: browser.execute_script(
            f"return {audio}.currentSrc !== arguments[0] && {audio}.currentTime > 0.5", first),
            timeout=15)
        print(f"live stream: {station.stream['connections'] - before} connections")
    finally:
        station.stream["cut_after"] = None
        find(browser, "#live-toggle").click()


def test_chapter_click_seeks_the_episode_player(browser: Any, station: Station) -> None:
    browser.get(station.base_url + "/#episodes")
    chapter = find(browser, f"button.chapter[data-start='{CHAPTER_START}']")
    assert station.papers[1].title in chapter.text
    chapter.click()
    wait_for(lambda: browser.execute_script(
        "var a = document.querySelector('article.episode audio');"
        "return a.currentTime >= arguments[0] - 0.1;", CHAPTER_START), timeout=10)
    browser.execute_script("document.querySelector('article.episode audio').pause()")


def test_search_returns_a_corpus_paper(browser: Any, station: Station) -> None:
    from selenium.webdriver.common.keys import Keys

    paper = station.papers[0]
    word = max(paper.title.split(), key=len).strip(":,.()")
    browser.get(station.base_url + "/")
    box = find(browser, "#q")
    box.send_keys(word)
    box.send_keys(Keys.ENTER)
    wait_for(lambda: "/papers?q=" in browser.current_url)
    link = find(browser, f"a[href='/papers/{paper.arxiv_id}']")
    assert link.text == paper.title


def test_markup_in_titles_shows_as_text(browser: Any, station: Station) -> None:
    browser.get(station.base_url + "/papers")
    assert find(browser, f"a[href='/papers/{XSS_SCRIPT_ID}']").text == \
        "<script>window.__xss = 'script'</script>Attention Is <b>All</b> You Need"
    assert find(browser, f"a[href='/papers/{XSS_IMG_ID}']").text == XSS_IMG_TITLE
    browser.get(f"{station.base_url}/papers/{XSS_IMG_ID}")
    assert find(browser, "#paper-h").text == XSS_IMG_TITLE
    browser.get(station.base_url + "/")
    wait_for(lambda: browser.execute_script(
        "return document.getElementById('now').hasAttribute('data-updated')"))
    station.publish(OnAirNow(mode="live", show_id="daily-2026-04-30", seq=1,
                             speaker="<img src=x onerror=\"window.__xss='speaker'\">",
                             text=XSS_SCRIPT_TITLE, paper_id=XSS_IMG_ID, title=XSS_IMG_TITLE,
                             authors=["<script>window.__xss='author'</script>"]))
    wait_for(lambda: find(browser, "#now-paper-link").text == XSS_IMG_TITLE, timeout=3)
    assert find(browser, "#now-line").text == XSS_SCRIPT_TITLE
    time.sleep(0.3)  # an injected image would have failed to load and fired by now
    assert browser.execute_script("return window.__xss === undefined")
    assert browser.execute_script("return document.querySelectorAll('img[src=x]').length") == 0
    assert browser.execute_script(
        "return document.querySelectorAll('main script, #now b').length") == 0


def test_operator_refuses_without_token_then_pauses_a_show(browser: Any,
                                                           station: Station) -> None:
    browser.get(station.base_url + "/operator")
    assert find(browser, "#signin-h").text == "Operator"
    assert "Pause" not in browser.page_source
    find(browser, "#token").send_keys("wrong token")
    find(browser, "#signin-h ~ form button").click()
    wait_for(lambda: "not right" in find(browser, "p.error").text)
    find(browser, "#token").send_keys(TOKEN)
    find(browser, "#signin-h ~ form button").click()
    wait_for(lambda: browser.find_elements("css selector", "#schedule-table"))
    find(browser, "button[aria-label='Pause schedule 1']").click()
    wait_for(lambda: find(browser, "#entry-1 .entry-state").text == "paused")
    assert "paused schedule 1" in find(browser, "#operator-message").text
    row = station.ctx.store.schedule_row(1)
    assert row is not None and row["paused"] == 1
    find(browser, "button[aria-label='Resume schedule 1']").click()
    wait_for(lambda: find(browser, "#entry-1 .entry-state").text == "active")
    browser.delete_all_cookies()


@pytest.mark.parametrize("path", ["/", "/papers"])
def test_page_is_keyboard_usable(browser: Any, station: Station, path: str) -> None:
    browser.get(station.base_url + path)
    unlabelled = browser.execute_script("""
        return Array.from(document.querySelectorAll('input, select, button')).filter(function (el) {
          if (el.type === 'hidden') { return false; }
          var named = el.getAttribute('aria-label') || (el.labels && el.labels.length) ||
                      (el.textContent || '').trim();
          return !named;
        }).map(function (el) { return el.outerHTML; });""")
    assert unlabelled == []


@pytest.mark.parametrize("path", ["/", "/papers", "/operator"])
def test_no_serious_accessibility_violations(browser: Any, station: Station, path: str) -> None:
    """axe-core (from axe-selenium-python) finds nothing serious or critical."""
    axe_selenium = pytest.importorskip("axe_selenium_python")
    browser.get(station.base_url + path)
    axe = axe_selenium.Axe(browser)
    axe.inject()
    results = axe.run()
    assert results["passes"], "axe ran no rules"
    print(f"axe {path}: {len(results['passes'])} rules pass, violations "
          f"{[(v['id'], v.get('impact')) for v in results['violations']]}")
    serious = [(v["id"], v["help"], [n["html"][:120] for n in v["nodes"][:3]])
               for v in results["violations"] if v.get("impact") in ("serious", "critical")]
    assert serious == []
