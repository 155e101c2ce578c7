"""`radio papers search|related|rank`: the embeddings database from the command line."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the search commands to the `papers` group."""
