"""/status in a real browser: headless Chromium (Debian's) driven by Selenium, against `healthd serve`.

Screenshots are kept as test artifacts under pytest's tmp directory; their paths are printed.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By

from tests.helpers.browser import CHROMEDRIVER, CHROMIUM, chromium, full_page
from tests.helpers.config import config_text
from tests.helpers.daemon import Daemons
from tests.helpers.processes import require
from tests.helpers.waiting import until

LONG_NAME = "a-check-with-a-rather-long-name-that-must-wrap.on.narrow:screens"
HOSTILE = "<script>alert(1)</script>"
WIDTHS = (375, 1440)
T = TypeVar("T")
FLIP_WITHIN = 15.0  # seconds: the page refreshes itself every 10


class Served:
    """A running `healthd serve`, the file its `flag` check looks for, and where to save pictures."""

    def __init__(self, url: str, flag: Path, artifacts: Path) -> None:
        self.url = url
        self.flag = flag
        self.artifacts = artifacts

    def screenshot(self, driver: webdriver.Chrome, name: str) -> Path:
        path = self.artifacts / f"{name}.png"
        full_page(driver)
        driver.save_screenshot(str(path))
        print(f"screenshot: {path}")
        return path


@pytest.fixture(scope="module")
def served(module_daemons: Daemons) -> Served:
    here = module_daemons.directory
    flag = here / "flag"
    config = here / "healthd.toml"  # the file module_daemons.start writes
    # Only the flag check runs a process; the others stat files (a `file` check of the config
    # itself passes; of a path made of hostile text, fails with that text in its error).
    fresh = {"type": "file", "path": str(config), "max_age": "24h"}
    checks: list[dict[str, Any]] = [
        {"name": "flag", "type": "command", "command": ["test", "-e", str(flag)], "tags": ["ops"]},
        {"name": "always", **fresh, "tags": ["node", "db"]},
        {
            "name": LONG_NAME,
            "type": "file",
            "path": f"{here}/{HOSTILE} {'x' * 300}",
            "max_age": "1h",
            "critical": False,
        },
        {"name": "gate", **fresh, "kind": "readiness"},
        {"name": "loop", **fresh, "kind": "liveness"},
    ]
    for check in checks:  # a timeout to spare on a busy machine; a flip shows in 2 s + 10 s
        check.update(interval="2s", timeout="1900ms")
    daemon = module_daemons.start(config_text(*checks))
    url = f"http://127.0.0.1:{daemon.port}/status"
    until(lambda: not daemon.alive() or _ready(url), "the daemon to run every check")
    assert daemon.alive(), "healthd serve exited"
    artifacts = here / "screenshots"
    artifacts.mkdir()
    return Served(url, flag, artifacts)


def _ready(url: str) -> bool:
    import urllib.request

    with urllib.request.urlopen(url, timeout=5) as response:
        return b"not yet run" not in response.read()


def _chromium(profile: Path, javascript: bool = True) -> webdriver.Chrome:
    require(CHROMIUM, "chromium")
    require(CHROMEDRIVER, "chromium-driver")
    return chromium(profile, javascript=javascript)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    driver = _chromium(tmp_path_factory.mktemp("chromium"))
    yield driver
    driver.quit()


def settled(read: Callable[[], T]) -> T:
    """`read()` again if the page reloaded itself (meta refresh) while it was being read."""
    for _ in range(20):
        try:
            return read()
        except WebDriverException:  # stale elements, or "Node ... does not belong to the document"
            time.sleep(0.1)
    return read()


def rows(driver: webdriver.Chrome) -> dict[str, str]:
    """Each check's row as the browser renders its text, by check name."""

    def read() -> dict[str, str]:
        found = {}
        for row in driver.find_elements(By.CSS_SELECTOR, "tbody tr"):
            name = row.find_element(By.TAG_NAME, "th").text
            found[name] = " ".join(row.text.split())
        return found

    return settled(read)


def kinds(driver: webdriver.Chrome) -> dict[str, str]:
    """Each kind's overall state as rendered."""

    def read() -> dict[str, str]:
        return {
            div.find_element(By.TAG_NAME, "dt").text.lower(): div.find_element(
                By.TAG_NAME, "dd"
            ).text
            for div in driver.find_elements(By.CSS_SELECTOR, ".kinds div")
        }

    return settled(read)


def background(driver: webdriver.Chrome) -> str:
    return str(driver.execute_script("return getComputedStyle(document.body).backgroundColor"))


@pytest.mark.parametrize("width", WIDTHS)
def test_every_check_and_state_reads_without_horizontal_scroll(
    browser: webdriver.Chrome, served: Served, width: int
) -> None:
    served.flag.unlink(missing_ok=True)
    browser.set_window_size(width, 900)
    browser.get(served.url)
    seen = until(lambda: (r := rows(browser)) and "FAIL" in r.get("flag", "") and r, "flag FAIL")
    assert set(seen) == {"flag", "always", LONG_NAME, "gate", "loop"}
    assert "FAIL" in seen["flag"] and "exit code" in seen["flag"]
    assert "PASS" in seen["always"] and "node" in seen["always"] and "db" in seen["always"]
    assert "DEGRADED" in seen[LONG_NAME] and HOSTILE in seen[LONG_NAME]  # shown as text
    assert "PASS" in seen["gate"] and "PASS" in seen["loop"]
    assert kinds(browser) == {"health": "FAIL", "readiness": "PASS", "liveness": "PASS"}
    for text in seen.values():  # since when, and how long the last run took
        assert re.search(r"(\d+[smhd] ago|just now) .*\d+ [mµ]?s", text), text
    assert browser.execute_script("return document.querySelectorAll('script').length") == 0
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth"
    ), f"horizontal scroll at {width} px"
    served.screenshot(browser, f"status-{width}px")


# WCAG contrast of each element's text against the background it sits on (its own, else its
# nearest ancestor's with one): state labels, overall states, times, tags, the header line.
CONTRAST = """
const rgb = c => c.match(/[\\d.]+/g).slice(0, 4).map(Number);
const lum = ([r, g, b]) => [r, g, b].map(v => { v /= 255;
  return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
  .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
const back = e => { for (; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor);
  if (c.length < 4 || c[3] > 0) return c; } return [255, 255, 255]; };
return [...document.querySelectorAll(arguments[0])].map(e => {
  const [a, b] = [lum(rgb(getComputedStyle(e).color)), lum(back(e))];
  return [e.textContent, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)]; });
"""
READ = "td b, .kinds dd, .kinds dt, tr.pass time, tr.pass td i, header p, thead th"


def test_dark_mode_changes_the_colours_and_both_themes_read_well(
    browser: webdriver.Chrome, served: Served
) -> None:
    browser.set_window_size(1440, 900)
    browser.get(served.url)
    light = background(browser)
    ratios = {"light": settled(lambda: browser.execute_script(CONTRAST, READ))}
    browser.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": "dark"}]},
    )
    try:
        browser.get(served.url)
        dark = background(browser)
        assert dark != light
        ratios["dark"] = settled(lambda: browser.execute_script(CONTRAST, READ))
        served.screenshot(browser, "status-dark")
        for theme, found in ratios.items():
            assert len(found) > 10
            poor = [(text, round(ratio, 2)) for text, ratio in found if ratio < 4.5]
            assert not poor, f"{theme}: text below WCAG AA contrast {poor}"
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})


def test_no_request_leaves_loopback_and_nothing_is_blocked(
    browser: webdriver.Chrome, served: Served
) -> None:
    for log in ("performance", "browser"):  # what came before: the browser's own start pages
        browser.get_log(log)  # type: ignore[no-untyped-call]
    browser.get(served.url)
    sent = []
    for entry in browser.get_log("performance"):  # type: ignore[no-untyped-call]
        message: dict[str, Any] = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            sent.append(message["params"]["request"]["url"])
    assert served.url in sent
    assert all(url.startswith("http://127.0.0.1:") for url in sent), sent
    # Nor did the page's policy block anything: the stylesheet's hash is the one it carries.
    console = browser.get_log("browser")  # type: ignore[no-untyped-call]
    assert not [line for line in console if "Content Security Policy" in line["message"]]


def test_without_javascript_the_page_shows_everything_and_refreshes_itself(
    tmp_path: Path, served: Served
) -> None:
    served.flag.unlink(missing_ok=True)
    driver = _chromium(tmp_path / "chromium", javascript=False)
    try:
        driver.set_window_size(375, 900)
        driver.get(served.url)
        assert "FAIL" in until(lambda: rows(driver).get("flag"), "the flag check's row")
        assert set(rows(driver)) == {"flag", "always", LONG_NAME, "gate", "loop"}
        served.flag.touch()
        # The test does not reload: the page's own <meta http-equiv=refresh> does.
        deadline = time.monotonic() + FLIP_WITHIN
        while "PASS" not in rows(driver).get("flag", "") and time.monotonic() < deadline:
            time.sleep(0.25)
        assert "PASS" in rows(driver)["flag"], f"the page did not show the flip in {FLIP_WITHIN}s"
        assert kinds(driver)["health"] == "DEGRADED"  # only the non-critical check fails now
        served.screenshot(driver, "status-no-javascript")
    finally:
        driver.quit()
