"""The show's cover art, drawn here: a square PNG of 1400-3000 px (Apple's rule)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from radio.artifacts import atomic_path

MIN_PX, MAX_PX = 1400, 3000
_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
_TOP, _BOTTOM = (16, 24, 48), (40, 70, 140)  # night blue to signal blue
_INK, _WAVE = (245, 240, 225), (250, 190, 70)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    if _FONT.is_file():
        return ImageFont.truetype(str(_FONT), size)
    return ImageFont.load_default(size=size)


def _gradient(size: int) -> Image.Image:
    column = Image.linear_gradient("L").resize((1, size))
    return Image.composite(Image.new("RGB", (1, size), _BOTTOM),
                           Image.new("RGB", (1, size), _TOP), column).resize((size, size))


Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def _fit(draw: ImageDraw.ImageDraw, text: str, width: int, start: int) -> Font:
    size = start
    while size > 12:
        font = _font(size)
        if draw.textlength(text, font=font) <= width:
            return font
        size = int(size * 0.9)
    return _font(size)


def draw_cover(title: str, subtitle: str, size: int = MIN_PX) -> Image.Image:
    if not MIN_PX <= size <= MAX_PX:
        raise ValueError(f"cover size {size} is outside {MIN_PX}-{MAX_PX} px")
    image = _gradient(size)
    draw = ImageDraw.Draw(image)
    centre, unit = (size // 2, int(size * 0.40)), size // 100
    for ring in range(1, 5):  # radio waves from a mast
        radius = ring * 7 * unit
        box = (centre[0] - radius, centre[1] - radius, centre[0] + radius, centre[1] + radius)
        draw.arc(box, 215, 325, fill=_WAVE, width=int(1.6 * unit))
    draw.ellipse((centre[0] - 2 * unit, centre[1] - 2 * unit, centre[0] + 2 * unit,
                  centre[1] + 2 * unit), fill=_WAVE)
    margin = 8 * unit
    title_font = _fit(draw, title, size - 2 * margin, 13 * unit)
    draw.text((size // 2, int(size * 0.62)), title, font=title_font, fill=_INK, anchor="mm")
    sub_font = _fit(draw, subtitle, size - 2 * margin, 4 * unit)
    draw.text((size // 2, int(size * 0.74)), subtitle, font=sub_font, fill=_INK, anchor="mm")
    return image


def write_cover(target: Path, title: str, subtitle: str, size: int = MIN_PX) -> Path:
    """Draw the cover into `target` (atomically); PNG."""
    with atomic_path(target) as tmp:
        draw_cover(title, subtitle, size).save(tmp, format="PNG", optimize=True)
    return target
