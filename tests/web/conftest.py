"""One station and one headless Chromium for every web test (started once: they are slow)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.settings import CORPUS
from tests.web.station import Station, start_station, stop_station

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture(scope="session")
def station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Station]:
    with pytest.MonkeyPatch.context() as patch:  # hermetic, as tests/conftest.py is per test
        for key in list(os.environ):
            if key.startswith("RADIO_"):
                patch.delenv(key)
        patch.setenv("RADIO_CONFIG", str(tmp_path_factory.mktemp("cfg") / "none.toml"))
        running = start_station(tmp_path_factory.mktemp("web"), CORPUS)
    try:
        yield running
    finally:
        stop_station(running)


@pytest.fixture(scope="session")
def artifacts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: $RADIO_TEST_ARTIFACTS, else a temporary folder."""
    wanted = os.environ.get("RADIO_TEST_ARTIFACTS")
    folder = Path(wanted) if wanted else tmp_path_factory.mktemp("artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium, headless, driven by selenium through Debian's chromedriver."""
    if not (Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()):
        pytest.skip("chromium and chromium-driver are not installed (scripts/setup.sh does)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="radio-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 "--mute-audio", "--autoplay-policy=no-user-gesture-required",
                 "--window-size=1280,1600", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
