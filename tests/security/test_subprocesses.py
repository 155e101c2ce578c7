"""Children only from argument lists, never through a shell; servers on loopback by default.

A static check of the station's source (the AST, not a grep: strings and comments do not
count), and of the default settings. The running station's sockets are checked in
test_station_secrets.py.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from radio.broker import EmbeddedBroker
from radio.config import Settings

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "radio").rglob("*.py"))
SHELLS = {("os", "system"), ("os", "popen"), ("asyncio", "create_subprocess_shell"),
          ("subprocess", "getoutput"), ("subprocess", "getstatusoutput")}
RUNNERS = {"run", "Popen", "call", "check_call", "check_output", "create_subprocess_exec"}


def calls(path: Path) -> list[ast.Call]:
    return [n for n in ast.walk(ast.parse(path.read_text(), str(path)))
            if isinstance(n, ast.Call)]


def name_of(call: ast.Call) -> tuple[str, str]:
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.value.id, func.attr
    if isinstance(func, ast.Name):
        return "", func.id
    return "", ""


def problems(path: Path) -> list[str]:
    found = []
    for call in calls(path):
        module, name = name_of(call)
        where = f"{path.relative_to(ROOT)}:{call.lineno}"
        if (module, name) in SHELLS:
            found.append(f"{where}: {module}.{name} runs a shell")
        if any(k.arg == "shell" and not (isinstance(k.value, ast.Constant)
                                         and k.value.value is False) for k in call.keywords):
            found.append(f"{where}: shell= given")
        if name in RUNNERS and module in ("subprocess", "asyncio") and call.args and \
                isinstance(call.args[0], ast.Constant | ast.JoinedStr | ast.BinOp):
            found.append(f"{where}: {name} given a command string, not an argument list")
    return found


def test_the_check_sees_a_shell() -> None:
    sample = ROOT / "tests" / "security" / "test_subprocesses.py"
    bad = sample.with_name("_shell_sample.py")
    bad.write_text("import os, subprocess\nos.system('ls')\n"
                   "subprocess.run(f'ls {x}', shell=True)\n")
    try:
        assert len(problems(bad)) == 3, problems(bad)
    finally:
        bad.unlink()


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT / "radio")))
def test_no_shell_anywhere_in_the_station(path: Path) -> None:
    assert problems(path) == []


def test_servers_listen_on_loopback_by_default(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.http_bind.startswith("127.0.0.1:")
    assert (settings.playout.listen_bind or "127.0.0.1:").startswith("127.0.0.1:")
    assert settings.broker().host == "127.0.0.1"
    assert inspect.signature(EmbeddedBroker).parameters["host"].default == "127.0.0.1"
