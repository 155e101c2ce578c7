"""An asyncio face on obsws-python: one OBS connection, its calls run in one thread.

obsws-python is blocking and not thread-safe, so every call goes through a
single-thread executor: calls are serialised and the event loop never blocks.
Errors come out as two kinds: `ObsUnavailable` (the connection is gone: reconnect)
and `ObsRequestError` (OBS refused one request: the connection is fine).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import obsws_python
import websocket
from obsws_python.error import OBSSDKError, OBSSDKRequestError

# obsws-python logs the password at INFO on connect and every request payload (stream
# keys included) at DEBUG, and a traceback for each refused request: keep it quiet.
logging.getLogger("obsws_python").setLevel(logging.CRITICAL + 1)


class ObsUnavailable(ConnectionError):
    """OBS cannot be reached, refused the login, or dropped the connection."""


class ObsRequestError(RuntimeError):
    """OBS answered a request with an error (the connection stays usable)."""

    def __init__(self, request: str, code: int, comment: str | None) -> None:
        super().__init__(f"{request} failed (code {code}){': ' + comment if comment else ''}")
        self.request, self.code = request, code


class ObsClient:
    """One authenticated obs-websocket v5 session."""

    def __init__(self, url: str, password: str | None, timeout_s: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "") or not parts.hostname:
            raise ValueError(f"obs url must look like ws://host:4455, not {url!r}")
        self.host, self.port = parts.hostname, parts.port or 4455
        self._password = password or ""
        self.timeout_s = timeout_s
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="obsws")
        self._client: obsws_python.ReqClient | None = None

    def __repr__(self) -> str:  # never the password
        return f"ObsClient(ws://{self.host}:{self.port})"

    async def connect(self) -> dict[str, Any]:
        """Open and authenticate the session; returns OBS's GetVersion answer."""
        await self._run(self._connect)
        return await self.call("GetVersion")

    def _connect(self) -> None:
        try:
            self._client = obsws_python.ReqClient(host=self.host, port=self.port,
                                                  password=self._password,
                                                  timeout=self.timeout_s)
        except (OSError, OBSSDKError, websocket.WebSocketException, KeyError, ValueError) as exc:
            raise ObsUnavailable(f"cannot connect to OBS at {self.host}:{self.port}: "
                                 f"{type(exc).__name__}: {exc}") from None

    async def call(self, request: str, **data: Any) -> dict[str, Any]:
        """Send one request (e.g. `call("SetCurrentProgramScene", sceneName="On air")`)."""
        return await self._run(self._call, request, data)

    def _call(self, request: str, data: dict[str, Any]) -> dict[str, Any]:
        if self._client is None:
            raise ObsUnavailable("not connected to OBS")
        try:
            return self._client.send(request, data or None, raw=True) or {}
        except OBSSDKRequestError as exc:
            comment = str(exc).partition("With message: ")[2] or None
            raise ObsRequestError(request, exc.code, comment) from None
        except (OSError, OBSSDKError, websocket.WebSocketException, ValueError) as exc:
            self._drop()
            raise ObsUnavailable(f"OBS connection lost during {request}: "
                                 f"{type(exc).__name__}") from None

    async def close(self) -> None:
        await self._run(self._drop)

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(OSError, websocket.WebSocketException):
                client.base_client.ws.shutdown()

    async def _run(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def shutdown(self) -> None:
        """Release the thread; the client is unusable afterwards."""
        self._drop()
        self._pool.shutdown(wait=False, cancel_futures=True)

