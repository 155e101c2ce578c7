"""The writer's jinja2 templates: the LLM's prompts and the fallback's spoken phrasings.

Both live in prompts/ (or `writer.prompts_dir`, searched first), so wording is changed in
templates, never in code.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from radio.config import Settings
from radio.understanding.prompts import PROMPTS_DIR, environment

LINE_KEYS = "line_keys.json"


def render(settings: Settings, template: str, **context: object) -> str:
    extra = settings.writer.prompts_dir
    return environment(str(extra) if extra else None).get_template(template) \
        .render(**context).strip()


@cache
def _keys(extra_dir: str | None) -> dict[str, str]:
    folder = Path(extra_dir) if extra_dir and (Path(extra_dir) / LINE_KEYS).is_file() \
        else PROMPTS_DIR
    keys = json.loads((folder / LINE_KEYS).read_text())
    return {role: key for role, key in keys.items() if not role.startswith("_")}


def line_keys(settings: Settings) -> dict[str, str]:
    """The JSON key of a dialogue line, by its role (prompts/line_keys.json)."""
    extra = settings.writer.prompts_dir
    return _keys(str(extra) if extra else None)
