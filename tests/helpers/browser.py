"""Headless Chromium from the distribution, driven by Selenium without downloading anything."""

from __future__ import annotations

import os
from pathlib import Path

from selenium import webdriver

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
)


def chromium(
    profile: Path, *, javascript: bool = True, chromium_path: str = CHROMIUM
) -> webdriver.Chrome:
    """A headless browser with its own profile in `profile`, logging network events and console."""
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never fetch a driver
    options = webdriver.ChromeOptions()
    options.binary_location = chromium_path
    for arg in ARGS:
        options.add_argument(arg)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    service = webdriver.ChromeService(executable_path=CHROMEDRIVER)
    return webdriver.Chrome(options=options, service=service)


def full_page(driver: webdriver.Chrome) -> None:
    """Make the window tall enough that a screenshot holds the whole page."""
    for _ in range(2):  # the second pass corrects for the window's own chrome
        missing = driver.execute_script(
            "return document.documentElement.scrollHeight - window.innerHeight"
        )
        if int(missing) <= 0:
            return
        size = driver.get_window_size()
        driver.set_window_size(size["width"], size["height"] + int(missing))
