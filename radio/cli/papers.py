"""`radio papers ...` and `radio ingest` (filled in by the ingest and understanding work)."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)
