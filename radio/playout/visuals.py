"""What the video shows: a paper's page only where its licence allows, else its title card.

arXiv records each paper's licence (ingest keeps it in `papers.licence_url`). Pages of
papers under CC BY, CC BY-SA or CC0 / public domain may be redistributed, so they may be
shown on a stream; under the default arXiv licence (or NC/ND terms) they are not, and the
stream shows the title card, built from arXiv metadata (CC0). `stage_frame` composes
one still of the video: show and paper in a band at the top, the picture, the caption.
Text from papers only ever reaches the picture through autoescaped templates.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2
import pymupdf

from radio.artifacts import DataRoot, InvalidId
from radio.store import Store

log = logging.getLogger(__name__)

# Licences whose terms allow showing the pages as they are, commercially included.
_REDISTRIBUTABLE = re.compile(
    r"creativecommons\.org/(?:licenses/(?:by|by-sa)/|publicdomain/(?:zero|mark)/)", re.I)
_BACKGROUND = (0.07, 0.09, 0.15)
_BAND = (0.11, 0.14, 0.23)
_CSS = """
* { font-family: sans-serif; color: #e8ecf4; }
p { margin: 0; }
.show { font-weight: bold; color: #8fb3ff; }
.id { color: #c9d2e3; }
.speaker { font-weight: bold; color: #ffd37a; }
.big { font-size: 96px; font-weight: bold; color: #8fb3ff; text-align: center; }
.sub { font-size: 36px; color: #c9d2e3; text-align: center; margin-top: 24px; }
"""


def pages_allowed(licence_url: str | None) -> bool:
    """Whether a paper's pages may be shown (CC BY, CC BY-SA, CC0, public domain)."""
    return bool(licence_url and _REDISTRIBUTABLE.search(licence_url))


@dataclass(frozen=True)
class OnScreenPaper:
    """What the video shows of a paper (and whether its pages may be shown)."""

    arxiv_id: str
    title: str
    authors: tuple[str, ...]
    abstract: str
    licence_url: str | None


def paper(store: Store, arxiv_id: str | None) -> OnScreenPaper | None:
    if not arxiv_id:
        return None
    row = store.paper(arxiv_id)
    if row is None:
        return None
    try:
        authors = tuple(json.loads(row["authors"]))
    except ValueError:
        authors = ()
    return OnScreenPaper(row["arxiv_id"], row["title"], authors, row["abstract"],
                         row["licence_url"])


def choose_image(data: DataRoot, found: OnScreenPaper | None, page: int | None, *,
                 licensed_only: bool = True) -> Path | None:
    """The page the hosts talk about if it may be shown, else the paper's title card."""
    if found is None:
        return None
    try:
        folder = data.paper_dir(found.arxiv_id)
    except InvalidId:
        return None
    if page and (not licensed_only or pages_allowed(found.licence_url)):
        image = folder / "pages" / f"{page:03d}.png"
        if image.is_file():
            return image
    card = folder / "title_card.png"
    if card.is_file():
        return card
    return own_title_card(data, found)


def own_title_card(data: DataRoot, found: OnScreenPaper) -> Path | None:
    """A title card of our own when the pdf worker has not made one (yet)."""
    from radio.ingest.pdf_images import CardInfo, render_title_card

    target = data.root / "onair" / "cards" / (found.arxiv_id.replace("/", "_") + ".png")
    if target.is_file():
        return target
    info = CardInfo(arxiv_id=found.arxiv_id, title=found.title, authors=found.authors,
                    abstract=found.abstract)
    try:
        return render_title_card(info, target)
    except Exception as exc:  # a picture is never worth stopping the show for
        log.warning("no title card for %s: %s", found.arxiv_id, exc)
        return None


@cache
def _template(name: str) -> jinja2.Template:
    env = jinja2.Environment(loader=jinja2.PackageLoader("radio.playout", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    return env.get_template(name)


def _inset(rect: pymupdf.Rect, side: float, top: float, bottom: float) -> pymupdf.Rect:
    return pymupdf.Rect(rect.x0 + side, rect.y0 + top, rect.x1 - side, rect.y1 - bottom)


def stage_frame(size: tuple[int, int], *, show: str, title: str | None, arxiv_id: str | None,
                speaker: str | None, text: str, image: Path | None,
                placeholder: tuple[str, str] | None = None) -> bytes:
    """One still of the video stream as PNG: band, picture, caption (1 pt = 1 px).

    Without a picture, `placeholder` (station, line) is written large in its place.
    """
    width, height = size
    unit = height / 720
    doc = pymupdf.open()
    page = doc.new_page(width=width, height=height)
    page.draw_rect(page.rect, color=None, fill=_BACKGROUND)
    band = pymupdf.Rect(0, 0, width, 56 * unit)
    page.draw_rect(band, color=None, fill=_BAND)
    header = _template("header.html.j2").render(show=show, title=title, arxiv_id=arxiv_id)
    page.insert_htmlbox(_inset(band, 24 * unit, 12 * unit, 6 * unit), header,
                        css=_CSS + f"p {{ font-size: {26 * unit:.0f}px; }}", scale_low=0)
    caption = pymupdf.Rect(24 * unit, height - 150 * unit, width - 24 * unit, height - 16 * unit)
    area = pymupdf.Rect(24 * unit, 68 * unit, width - 24 * unit, caption.y0 - 10 * unit)
    if image is not None:
        try:
            page.insert_image(area, filename=str(image), keep_proportion=True)
        except Exception as exc:  # an unreadable picture leaves the frame without one
            log.warning("cannot show %s: %s", image, exc)
    elif placeholder is not None:
        station, line = placeholder
        html = _template("placeholder.html.j2").render(station=station, line=line)
        box = pymupdf.Rect(area.x0, area.y0 + area.height * 0.25, area.x1, area.y1)
        page.insert_htmlbox(box, html, css=_CSS, scale_low=0)
    if text:
        page.draw_rect(caption, color=None, fill=_BAND)
        html = _template("caption.html.j2").render(speaker=speaker, text=text)
        page.insert_htmlbox(_inset(caption, 16 * unit, 10 * unit, 10 * unit), html,
                            css=_CSS + f"p, span {{ font-size: {30 * unit:.0f}px; }}",
                            scale_low=0)
    png = page.get_pixmap(alpha=False).tobytes("png")
    doc.close()
    return png
