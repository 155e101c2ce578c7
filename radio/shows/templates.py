"""The writer's jinja2 templates: the LLM's prompts and the fallback's spoken phrasings.

Both live in prompts/ (or `writer.prompts_dir`, searched first), so wording is changed in
templates, never in code.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import jinja2

from radio.config import Settings
from radio.understanding.prompts import PROMPTS_DIR, as_data

LINE_KEYS = "line_keys.json"


@cache
def _environment(extra_dir: str | None) -> jinja2.Environment:
    dirs = [extra_dir, str(PROMPTS_DIR)] if extra_dir else [str(PROMPTS_DIR)]
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(dirs),
                             undefined=jinja2.StrictUndefined, autoescape=False,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["data"] = as_data
    return env


def render(settings: Settings, template: str, **context: object) -> str:
    extra = settings.writer.prompts_dir
    return _environment(str(extra) if extra else None).get_template(template) \
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
