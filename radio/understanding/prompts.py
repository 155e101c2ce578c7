"""Prompts are jinja2 templates in prompts/; paper text enters them only through `|data`.

`|data` escapes the characters that could close the `<paper>` block a template puts the text
in, and drops control characters, so a paper cannot pose as instructions or end its block.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import jinja2

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def as_data(text: object) -> str:
    """Untrusted text, made safe to sit between delimiters in a prompt."""
    cleaned = _CONTROL.sub("", str(text))
    return cleaned.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@cache
def environment(extra_dir: str | None = None) -> jinja2.Environment:
    """The prompts' environment; templates in `extra_dir` (an operator's) are found first."""
    dirs = [extra_dir, str(PROMPTS_DIR)] if extra_dir else [str(PROMPTS_DIR)]
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(dirs),
                             undefined=jinja2.StrictUndefined, autoescape=False,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)
    env.filters["data"] = as_data
    return env


def render(template: str, **context: object) -> str:
    return environment().get_template(template).render(**context).strip()
