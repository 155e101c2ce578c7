"""What every command shares: settings, logging, a clear one-line error."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console

from radio.config import Settings, get_settings
from radio.worker import Context

console = Console()
err_console = Console(stderr=True)


def fail(message: str) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(2)


def settings() -> Settings:
    try:
        return get_settings()
    except (ValidationError, ValueError) as exc:
        fail(f"bad configuration: {exc}")


def context() -> Context:
    return Context.from_settings(settings())


def setup_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(),
                        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    for noisy in ("amqtt", "transitions", "httpx", "urllib3", "faiss.loader"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)
