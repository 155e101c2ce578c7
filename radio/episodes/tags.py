"""ID3 tags of an episode: title, show, date, cover art and chapters (CHAP/CTOC).

ID3v2.3, which every podcast app reads; mutagen converts the text encodings.
"""

from __future__ import annotations

from pathlib import Path

from mutagen.id3 import (
    APIC,
    CHAP,
    COMM,
    CTOC,
    ID3,
    TALB,
    TCON,
    TDRC,
    TIT2,
    TPE1,
    WXXX,
    CTOCFlags,
    PictureType,
)

from radio.episodes.chapters import Chapter

_NO_OFFSET = 0xFFFFFFFF  # "use the times, not byte offsets"


def _chapter_frame(index: int, chapter: Chapter) -> CHAP:
    return CHAP(
        element_id=f"chp{index}",
        start_time=round(chapter.start_s * 1000), end_time=round(chapter.end_s * 1000),
        start_offset=_NO_OFFSET, end_offset=_NO_OFFSET,
        sub_frames=[TIT2(encoding=3, text=[chapter.title]),
                    WXXX(encoding=3, desc="arXiv", url=chapter.url)],
    )


def write_tags(mp3: Path, *, title: str, show: str, artist: str, date: str,
               chapters: list[Chapter], cover_png: Path | None = None,
               comment: str = "") -> None:
    """Replace the mp3's tags with the episode's."""
    tags = ID3()
    tags.add(TIT2(encoding=3, text=[title]))
    tags.add(TALB(encoding=3, text=[show]))
    tags.add(TPE1(encoding=3, text=[artist]))
    tags.add(TDRC(encoding=3, text=[date]))
    tags.add(TCON(encoding=3, text=["Podcast"]))
    if comment:
        tags.add(COMM(encoding=3, lang="eng", desc="", text=[comment]))
    if cover_png is not None:
        tags.add(APIC(encoding=3, mime="image/png", type=PictureType.COVER_FRONT,
                      desc="Cover", data=cover_png.read_bytes()))
    if chapters:
        ids = [f"chp{i}" for i in range(len(chapters))]
        tags.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                      child_element_ids=ids,
                      sub_frames=[TIT2(encoding=3, text=["Papers"])]))
        for index, chapter in enumerate(chapters):
            tags.add(_chapter_frame(index, chapter))
    tags.save(mp3, v2_version=3)
