"""The web server over plain HTTP: operator refusals, CSRF, escaping, files, the stream relay."""

from __future__ import annotations

import httpx
import pytest
from markupsafe import escape

from radio import web, webdata
from tests.web.station import (
    SHOW_ID,
    TOKEN,
    XSS_IMG_ID,
    XSS_IMG_TITLE,
    XSS_SCRIPT_ID,
    XSS_SCRIPT_TITLE,
    Station,
)


@pytest.fixture
def http(station: Station) -> httpx.Client:
    with httpx.Client(base_url=station.base_url, timeout=10) as client:
        yield client


def test_operator_refuses_a_missing_or_wrong_token(http: httpx.Client) -> None:
    page = http.get("/operator")
    assert page.status_code == 401 and "Operator token" in page.text
    assert http.get("/operator", headers={"Authorization": "Bearer wrong"}).status_code == 401
    with httpx.Client(base_url=http.base_url, cookies={web.COOKIE: "forged"}) as forged:
        assert forged.get("/operator").status_code == 401
    post = http.post("/operator/schedule", data={"action": "pause", "id": "1", "csrf": "x"})
    assert post.status_code == 401
    origin = f"{http.base_url.scheme}://{http.base_url.netloc.decode()}"
    wrong = http.post("/operator/signin", data={"token": "nope"}, headers={"Origin": origin})
    assert wrong.status_code == 401


def test_operator_posts_need_the_csrf_token_and_this_origin(http: httpx.Client,
                                                            station: Station) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert http.get("/operator", headers=auth).status_code == 200
    no_csrf = http.post("/operator/schedule", data={"action": "pause", "id": "2"}, headers=auth)
    assert no_csrf.status_code == 403
    csrf = web._derive(TOKEN, "csrf")
    cross = http.post("/operator/schedule", data={"action": "pause", "id": "2", "csrf": csrf},
                      headers={**auth, "Origin": "https://evil.example"})
    assert cross.status_code == 403
    # a cookie-holding browser tricked by another site sends its Sec-Fetch-Site
    signin = http.post("/operator/signin", data={"token": TOKEN},
                       headers={"Origin": "https://evil.example"})
    assert signin.status_code == 401
    entry = station.ctx.store.schedule_row(2)
    assert entry is not None and entry["paused"] == 0


def test_operator_view_is_off_without_a_token(station: Station) -> None:
    app = web.make_app(station.ctx, token="")
    assert app[web.TOKEN] == ""
    assert web.operator_token({}) is None
    assert web.operator_token({"RADIO_OPERATOR_TOKEN": " abc "}) == "abc"


def test_operator_token_from_a_file(tmp_path) -> None:
    secret = tmp_path / "token"
    secret.write_text("from-a-file\n")
    assert web.operator_token({"RADIO_OPERATOR_TOKEN_FILE": str(secret)}) == "from-a-file"
    assert web.operator_token({"RADIO_OPERATOR_TOKEN_FILE": str(tmp_path / "none")}) is None


def test_markup_from_papers_is_escaped(http: httpx.Client) -> None:
    for path in ("/", "/papers", f"/papers/{XSS_SCRIPT_ID}", f"/papers/{XSS_IMG_ID}",
                 "/papers?q=tricky"):
        page = http.get(path)
        assert page.status_code == 200, path
        assert "<script>window.__xss" not in page.text and "<img src=x" not in page.text, path
        assert "onerror=\"window" not in page.text, path
    assert str(escape(XSS_SCRIPT_TITLE)) in http.get("/papers").text
    assert str(escape(XSS_IMG_TITLE)) in http.get(f"/papers/{XSS_IMG_ID}").text
    csp = http.get("/").headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp


@pytest.mark.parametrize("path", [
    "/static/../web.py", "/static/%2e%2e%2fweb.py", "/static/index.html", "/static/radio.py",
    "/episodes/..%2Fradio.sqlite3", "/papers/..%2F..%2Fradio.sqlite3", "/radio.sqlite3",
    "/papers/2604.99001/pages/1.png", "/papers/9999.99999", "/templates/base.html",
])
def test_nothing_but_the_station_files(http: httpx.Client, path: str) -> None:
    assert http.get(path).status_code == 404, path


def test_static_files_episode_and_papers(http: httpx.Client, station: Station) -> None:
    assert http.get("/static/radio.js").headers["Content-Type"].startswith("text/javascript")
    assert http.get("/static/style.css").headers["Content-Type"].startswith("text/css")
    page = http.get("/")
    assert f'<audio controls preload="none" src="/episodes/{SHOW_ID}.mp3">' in page.text
    assert 'data-src="/radio.mp3"' in page.text
    papers = http.get("/papers").text
    assert "aired" in papers and "failed" in papers and "queued" in papers
    assert "embed: index &lt;b&gt;busy&lt;/b&gt;" in papers


def test_search_by_words_without_the_embeddings(http: httpx.Client, station: Station) -> None:
    paper = station.papers[0]
    word = max(paper.title.split(), key=len).strip(":,.()")
    page = http.get("/papers", params={"q": word})
    assert f'href="/papers/{paper.arxiv_id}"' in page.text
    assert "Matched by words" in page.text
    searcher = webdata.Searcher(station.settings, station.ctx.store, station.ctx.data)
    found, how = searcher.search(word)  # no index saved: words, without loading a model
    assert how == "words" and paper.arxiv_id in [p.arxiv_id for p in found]


def test_live_stream_is_relayed_on_the_same_origin(http: httpx.Client) -> None:
    with http.stream("GET", "/radio.mp3") as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "audio/mpeg"
        first = next(response.iter_bytes())
        assert len(first) > 0 and (first[:3] == b"ID3" or first[0] == 0xFF)


@pytest.mark.slow
def test_events_stream_starts_with_the_now_playing_state(http: httpx.Client) -> None:
    with http.stream("GET", "/events") as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        text = ""
        for chunk in response.iter_text():
            text += chunk
            if "\n\n" in text.split("event: now", 1)[-1]:
                break
        assert "event: now" in text and '"next"' in text
