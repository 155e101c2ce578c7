"""The writer's jinja2 templates: the LLM's prompts and the fallback's spoken phrasings.

Both live in prompts/ (or `writer.prompts_dir`, searched first), so wording is changed in
templates, never in code.
"""

from __future__ import annotations

from radio.config import Settings
from radio.understanding.prompts import environment


def render(settings: Settings, template: str, **context: object) -> str:
    extra = settings.writer.prompts_dir
    return environment(str(extra) if extra else None).get_template(template) \
        .render(**context).strip()
