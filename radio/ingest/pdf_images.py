"""Pictures of a paper: its pages as PNG, and a title card made from its metadata.

The title card is what the video shows when a paper's licence does not allow its pages
to be shown: it is built only from arXiv metadata (title, authors, id, abstract), which
arXiv publishes under CC0. Text on it is escaped by the template (autoescape).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2
import numpy as np
import pymupdf

CARD_SIZE = (1280, 720)
MAX_ASPECT = 4.0  # page image height : width at most
MAX_AUTHORS = 6
ABSTRACT_CHARS = 600
_BACKGROUND = (0.07, 0.09, 0.15)


@dataclass(frozen=True)
class CardInfo:
    """What the title card says; all of it is arXiv metadata."""

    arxiv_id: str
    title: str
    authors: tuple[str, ...] = ()
    abstract: str = ""
    version: int | None = None
    category: str | None = None
    date: str | None = None  # YYYY-MM-DD


def render_pages(doc: pymupdf.Document, out_dir: Path, width_px: int, count: int) -> list[Path]:
    """Render the first `count` pages as `NNN.png`, `width_px` wide, RGB without alpha."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(count):
        page = doc[number]
        zoom = width_px / page.rect.width
        # A freak page shape (a scroll, a poster) is cut to 4:1 rather than eat memory.
        clip = pymupdf.Rect(page.rect.x0, page.rect.y0, page.rect.x1,
                            page.rect.y0 + min(page.rect.height, MAX_ASPECT * page.rect.width))
        pix = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), colorspace=pymupdf.csRGB,
                              alpha=False, annots=False, clip=clip)
        paths.append(save_png(pix, out_dir / f"{number + 1:03d}.png"))
    return paths


def save_png(pix: pymupdf.Pixmap, path: Path) -> Path:
    """PNG of an RGB pixmap; grey if the page has no colour (most text pages): a third of
    the bytes to compress, which is most of the cost of a page image."""
    rgb = np.frombuffer(pix.samples_mv, dtype=np.uint8).reshape(-1, 3)
    if (rgb == rgb[:, :1]).all():
        pix = pymupdf.Pixmap(pymupdf.csGRAY, pix)
    pix.save(path)
    return path


def render_title_card(info: CardInfo, path: Path) -> Path:
    """A 1280x720 PNG card: id and category, title, authors, the start of the abstract."""
    with title_card_pdf(info) as doc:
        pix = doc[0].get_pixmap(alpha=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    pix.save(path)
    return path


def title_card_pdf(info: CardInfo) -> pymupdf.Document:
    """The title card as a one-page PDF, 1 pt per pixel."""
    width, height = CARD_SIZE
    doc = pymupdf.open()
    page = doc.new_page(width=width, height=height)
    page.draw_rect(page.rect, color=None, fill=_BACKGROUND)
    html = _template().render(card=info, authors=_authors(info.authors),
                              abstract=excerpt(info.abstract, ABSTRACT_CHARS))
    page.insert_htmlbox(pymupdf.Rect(72, 56, width - 72, height - 48), html, css=_CSS,
                        scale_low=0)
    return doc


def excerpt(text: str, limit: int) -> str:
    """The first sentences of `text` that fit in `limit` characters, else a cut at a word."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    stop = max(cut.rfind(". "), cut.rfind("? "), cut.rfind("! "))
    if stop > limit // 2:
        return cut[:stop + 1]
    return cut[:cut.rfind(" ")].rstrip(",;:") + "…"


def _authors(authors: tuple[str, ...]) -> str:
    shown = ", ".join(authors[:MAX_AUTHORS])
    return f"{shown} et al." if len(authors) > MAX_AUTHORS else shown


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(loader=jinja2.PackageLoader("radio.ingest", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["squash"] = lambda s: re.sub(r"\s+", " ", s or "").strip()
    return env.get_template("title_card.html.j2")


_CSS = """
* { font-family: sans-serif; color: #e8ecf4; }
.meta { font-size: 22px; color: #8fb3ff; margin: 0 0 22px 0; }
.title { font-size: 46px; font-weight: bold; line-height: 1.15; margin: 0 0 22px 0; }
.authors { font-size: 24px; color: #c9d2e3; margin: 0 0 26px 0; }
.abstract { font-size: 22px; color: #aab4c8; line-height: 1.35; margin: 0; }
.credit { font-size: 15px; color: #6f7a90; margin: 24px 0 0 0; }
"""
