"""Headless Chromium for the browser tests, through selenium, or a skip saying why.

One place for the flags a container needs (no sandbox, no GPU, no network of its
own, a fresh profile) so every browser test starts the browser the same way. Start
one per module (a fixture with scope="module"), not one per test: a start costs
about a second. Debian: `apt-get install chromium chromium-driver` (.ci/run does).
"""
from __future__ import annotations

import shutil
import tempfile

import pytest

FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--force-device-scale-factor=1", "--hide-scrollbars")


# For a page check run in the browser: `hit(a, b)`, two DOMRects overlap, and
# `within(a, b)`, a inside b, both with half a pixel of slack for rounding.
RECTS_JS = r"""
const slack = 0.5;
const hit = (a, b) => a.left < b.right - slack && b.left < a.right - slack &&
                      a.top < b.bottom - slack && b.top < a.bottom - slack;
const within = (a, b) => a.left >= b.left - slack && a.right <= b.right + slack &&
                         a.top >= b.top - slack && a.bottom <= b.bottom + slack;
"""


def start(width: int = 1440, height: int = 1000):
    """A headless Chromium with a window of `width` x `height` px, or skip the test."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (the test extra)")
    from selenium.common.exceptions import WebDriverException

    chrome = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
    driver_path = shutil.which("chromedriver")
    if chrome is None or driver_path is None:
        pytest.skip("needs chromium and chromedriver (Debian: apt-get install chromium chromium-driver)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    profile = tempfile.mkdtemp(prefix="mc-chrome-")
    for arg in FLAGS + (f"--window-size={width},{height}", f"--user-data-dir={profile}"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=driver_path), options=opts)
    except WebDriverException as err:  # present but unable to start here
        shutil.rmtree(profile, ignore_errors=True)
        pytest.skip(f"chromium did not start: {err.msg}")
    driver.mc_profile = profile
    return driver


def stop(driver) -> None:
    """Quit the browser and remove its profile folder."""
    driver.quit()
    shutil.rmtree(getattr(driver, "mc_profile", ""), ignore_errors=True)
