"""The station's scene collection in OBS: what it holds, how it is built and repaired,
and what each source shows for a given `onair/now`.

Geometry is written for a 1280x720 canvas and scaled to whatever canvas OBS has.
Build is idempotent: it creates what is missing, re-creates an input of the wrong kind,
and puts back our items' places and styles; items an operator added are left alone.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from radio.messages import OnAirNow

ON_AIR, INTERMISSION, STARTING_SOON = "On air", "Intermission", "Starting soon"
BACKGROUND, PAGE, SHOW, TITLE, AUTHORS, CAPTION = (
    "Background", "Page image", "Show title", "Paper title", "Paper authors", "Caption")
AUDIO, INTERMISSION_CARD, STARTING_CARD = "Station audio", "Intermission card", "Starting soon card"

SCENE_FOR_MODE = {"live": ON_AIR, "fallback": INTERMISSION, "ident": INTERMISSION,
                  "idle": STARTING_SOON}
REFERENCE_WIDTH = 1280
WHITE, GREY, NAVY = 0xFFFFFFFF, 0xFFD0D0D0, 0xFF2B1A12  # OBS colours are 0xAABBGGRR


class Caller(Protocol):
    async def call(self, request: str, **data: Any) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Source:
    kind: str
    settings: dict[str, Any]  # style only; what the source shows comes from `contents`
    at: tuple[int, int] = (0, 0)  # top-left on the reference canvas
    box: tuple[int, int] | None = None  # fit inside this box (images); None: plain scale


@dataclass(frozen=True)
class Layout:
    sources: dict[str, Source]
    scenes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # items, bottom first


def _text(size: int, width: int, colour: int = WHITE, bold: bool = False) -> dict[str, Any]:
    return {"font": {"face": "DejaVu Sans", "size": size, "style": "Bold" if bold else "Regular",
                     "flags": 1 if bold else 0},
            "color1": colour, "color2": colour, "word_wrap": True, "custom_width": width,
            "drop_shadow": True, "outline": False}


def station_layout(station: str, audio_url: str | None) -> Layout:
    """Three scenes sharing one background, caption and audio."""
    sources = {
        BACKGROUND: Source("color_source_v3", {"color": NAVY, "width": 1280, "height": 720}),
        PAGE: Source("image_source", {"unload": False}, at=(40, 40), box=(560, 500)),
        SHOW: Source("text_ft2_source_v2", _text(22, 600, GREY), at=(640, 40)),
        TITLE: Source("text_ft2_source_v2", _text(38, 600, bold=True), at=(640, 90)),
        AUTHORS: Source("text_ft2_source_v2", _text(24, 600, GREY), at=(640, 380)),
        CAPTION: Source("text_ft2_source_v2", _text(30, 1200), at=(40, 570)),
        INTERMISSION_CARD: Source(
            "text_ft2_source_v2",
            {**_text(48, 1100, bold=True), "text": f"{station}\nBack with more papers shortly"},
            at=(90, 200)),
        STARTING_CARD: Source(
            "text_ft2_source_v2",
            {**_text(56, 1100, bold=True), "text": f"{station}\nStarting soon"}, at=(90, 260)),
        AUDIO: Source("ffmpeg_source", {
            "is_local_file": False, "input": audio_url or "", "reconnect_delay_sec": 2,
            "restart_on_activate": False, "close_when_inactive": False, "hw_decode": False}),
    }
    scenes = {
        ON_AIR: (BACKGROUND, PAGE, SHOW, TITLE, AUTHORS, CAPTION, AUDIO),
        INTERMISSION: (BACKGROUND, INTERMISSION_CARD, CAPTION, AUDIO),
        STARTING_SOON: (BACKGROUND, STARTING_CARD, AUDIO),
    }
    return Layout(sources, scenes)


def _transform(source: Source, scale: float) -> dict[str, Any]:
    x, y = source.at
    transform: dict[str, Any] = {"positionX": x * scale, "positionY": y * scale,
                                 "alignment": 5, "rotation": 0.0}
    if source.box:
        transform |= {"boundsType": "OBS_BOUNDS_SCALE_INNER", "boundsAlignment": 0,
                      "boundsWidth": source.box[0] * scale, "boundsHeight": source.box[1] * scale}
    else:
        transform |= {"boundsType": "OBS_BOUNDS_NONE", "scaleX": scale, "scaleY": scale}
    return transform


async def build(obs: Caller, layout: Layout) -> list[str]:
    """Create or repair every scene, input and item; returns what had to be fixed."""
    video = await obs.call("GetVideoSettings")
    scale = video["baseWidth"] / REFERENCE_WIDTH
    fixed: list[str] = []
    inputs = await _inputs_of_the_right_kind(obs, layout, fixed)
    scenes = {s["sceneName"] for s in (await obs.call("GetSceneList"))["scenes"]}
    for scene, items in layout.scenes.items():
        if scene not in scenes:
            await obs.call("CreateScene", sceneName=scene)
            fixed.append(f"scene {scene!r}")
        await _place_items(obs, scene, items, layout, inputs, scale, fixed)
    for name, source in layout.sources.items():
        await obs.call("SetInputSettings", inputName=name, inputSettings=source.settings,
                       overlay=True)
    return fixed


async def _inputs_of_the_right_kind(obs: Caller, layout: Layout, fixed: list[str],
                                    ) -> dict[str, str]:
    """OBS's inputs by name, after removing ours that have the wrong kind."""
    inputs = {i["inputName"]: i["inputKind"] for i in (await obs.call("GetInputList"))["inputs"]}
    for name, source in layout.sources.items():
        if name in inputs and inputs[name] != source.kind:
            fixed.append(f"input {name!r} was a {inputs.pop(name)}")
            await obs.call("RemoveInput", inputName=name)
            await _gone(obs, name)
    return inputs


async def _gone(obs: Caller, name: str, timeout_s: float = 5.0) -> None:
    """Wait until OBS has released a removed input (removal finishes asynchronously)."""
    async with asyncio.timeout(timeout_s):
        while any(i["inputName"] == name for i in (await obs.call("GetInputList"))["inputs"]):
            await asyncio.sleep(0.05)


async def _place_items(obs: Caller, scene: str, items: tuple[str, ...], layout: Layout,
                       inputs: dict[str, str], scale: float, fixed: list[str]) -> None:
    """Add missing items to a scene and put every one of ours in its place and order.

    Items are enabled and moved only when they need it. OBS's window replays every
    change on its source list from a queue; when many pile up (a repair just after OBS
    started and loaded the collection) OBS 29 has been seen to corrupt its heap and abort
    in that list's move handling, and then there is no OBS to reconnect to.
    """
    listing = await obs.call("GetSceneItemList", sceneName=scene)
    present = {i["sourceName"]: i for i in listing["sceneItems"]}
    for index, name in enumerate(items):
        item = present.get(name)
        if item is None:
            fixed.append(f"{name!r} in {scene!r}")
            item_id = await _add_item(obs, scene, name, layout.sources[name], inputs)
        else:
            item_id = item["sceneItemId"]
        await obs.call("SetSceneItemTransform", sceneName=scene, sceneItemId=item_id,
                       sceneItemTransform=_transform(layout.sources[name], scale))
        if item is not None and not item["sceneItemEnabled"]:
            await obs.call("SetSceneItemEnabled", sceneName=scene, sceneItemId=item_id,
                           sceneItemEnabled=True)
        # Indexes shift as items are added and moved: ask, do not trust the first listing.
        now = await obs.call("GetSceneItemIndex", sceneName=scene, sceneItemId=item_id)
        if now["sceneItemIndex"] != index:
            await obs.call("SetSceneItemIndex", sceneName=scene, sceneItemId=item_id,
                           sceneItemIndex=index)


async def _add_item(obs: Caller, scene: str, name: str, source: Source,
                    inputs: dict[str, str]) -> int:
    if name in inputs:
        created = await obs.call("CreateSceneItem", sceneName=scene, sourceName=name)
    else:
        created = await obs.call("CreateInput", sceneName=scene, inputName=name,
                                 inputKind=source.kind, inputSettings=source.settings,
                                 sceneItemEnabled=True)
        inputs[name] = source.kind
    return created["sceneItemId"]


def contents(now: OnAirNow, image: Path | None) -> dict[str, dict[str, Any]]:
    """What each source shows while `now` is on air (settings to overlay)."""
    caption = f"{now.speaker}: {now.text}" if now.speaker and now.text else now.text
    return {
        SHOW: {"text": clip(now.show_title or "", 80)},
        TITLE: {"text": clip(now.title or now.show_title or "", 160)},
        AUTHORS: {"text": "\n".join(filter(None, [
            authors_line(now.authors), f"arXiv:{now.paper_id}" if now.paper_id else ""]))},
        CAPTION: {"text": clip(caption, 220)},
        PAGE: {"file": str(image) if image else ""},
    }


def clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def authors_line(authors: list[str], most: int = 6) -> str:
    shown = ", ".join(authors[:most])
    return clip(shown + (" et al." if len(authors) > most else ""), 200)
