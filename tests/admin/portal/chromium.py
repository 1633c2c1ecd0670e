"""A real headless Chromium that presents a person's client certificate, driven by selenium.

Each browser gets its own HOME with an NSS database (``~/.pki/nssdb``) holding that one
certificate and our CA as trusted; the managed policy ``AutoSelectCertificateForUrls`` that
``scripts/setup --test`` installs for https://127.0.0.1 makes Chromium present it without a
dialog. axe-core (npm, installed by setup into tests/browser/node_modules) is injected through
the DevTools protocol, which the page's Content-Security-Policy does not govern.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.missing import missing_part

ROOT = Path(__file__).resolve().parents[3]
AXE = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
POLICY = Path("/etc/chromium/policies/managed/dataadgang-tests.json")
ARTIFACTS = Path(os.environ.get("DATAADGANG_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "portal"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def require_browser() -> None:
    """Fail under CI when a part is missing (setup installs them all); skip on a bare laptop."""
    missing = [name for name in ("chromium", "chromedriver", "pk12util", "certutil") if shutil.which(name) is None]
    if not POLICY.exists():
        missing.append(str(POLICY))
    if not AXE.exists():
        missing.append(str(AXE))
    if missing:
        message = f"browser test parts missing (run scripts/setup --test): {', '.join(missing)}"
        missing_part(message)


class Browser:
    def __init__(self, driver: Any, downloads: Path) -> None:
        self.driver = driver
        self.downloads = downloads

    def open(self, url: str) -> None:
        self.driver.get(url)

    def click(self, css: str) -> None:
        """Click and, when that submits a form or follows a link, wait for the next page."""
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        old = self.driver.find_element(By.TAG_NAME, "html")
        element = self.driver.find_element(By.CSS_SELECTOR, css)
        navigates = element.tag_name == "button" or element.get_attribute("download") is None
        element.click()
        if navigates:
            WebDriverWait(self.driver, 30).until(lambda _driver: _gone(old))

    def fill(self, css: str, text: str) -> None:
        from selenium.webdriver.common.by import By

        element = self.driver.find_element(By.CSS_SELECTOR, css)
        element.clear()
        element.send_keys(text)

    def select(self, css: str, value: str) -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import Select

        Select(self.driver.find_element(By.CSS_SELECTOR, css)).select_by_value(value)

    def text(self, css: str) -> str:
        from selenium.webdriver.common.by import By

        return str(self.driver.find_element(By.CSS_SELECTOR, css).text)

    @property
    def page(self) -> str:
        return str(self.driver.page_source)

    @property
    def url(self) -> str:
        return str(self.driver.current_url)

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def accessibility_violations(self) -> list[dict[str, Any]]:
        """axe-core's serious and critical WCAG 2.1 A/AA violations on the current page."""
        self.driver.execute_script(AXE.read_text(encoding="utf-8"))
        found = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
            ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " nodes: v.nodes.map(n => n.target.join(' '))}))))"
            ".catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));",
            WCAG_21_AA,
        )
        return [v for v in found if v["impact"] in ("serious", "critical")]

    def wait_for_download(self, suffix: str, timeout: float = 30.0) -> Path:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = [p for p in self.downloads.iterdir() if p.name.endswith(suffix)]
            if done:
                return done[0]
            time.sleep(0.2)
        raise AssertionError(f"no {suffix} downloaded; have {[p.name for p in self.downloads.iterdir()]}")


@contextmanager
def chromium(home: Path, *, p12: Path | None, password: str = "", ca_file: Path) -> Iterator[Browser]:
    """Chromium with ``p12``'s certificate (or none: an OpenID Connect login) and our CA trusted."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    nss = home / ".pki" / "nssdb"
    nss.mkdir(parents=True)
    subprocess.run(["certutil", "-N", "--empty-password", "-d", f"sql:{nss}"], check=True, capture_output=True)
    if p12 is not None:
        subprocess.run(["pk12util", "-i", str(p12), "-d", f"sql:{nss}", "-W", password], check=True, capture_output=True)
    subprocess.run(
        ["certutil", "-A", "-t", "C,,", "-n", "dataadgang-test-ca", "-i", str(ca_file), "-d", f"sql:{nss}"],
        check=True, capture_output=True,
    )
    downloads = home / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000",
                     f"--user-data-dir={home / 'profile'}", "--lang=da"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False})
    service = Service(shutil.which("chromedriver") or "chromedriver", env={**os.environ, "HOME": str(home)})
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    try:
        driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
        yield Browser(driver, downloads)
    finally:
        driver.quit()


def _gone(element: Any) -> bool:
    """The old page's root has left the document. Chromium says so in one of two ways while the
    next page replaces it: a stale reference, or (mid-swap) an inspector error that the node
    'does not belong to the document'; selenium's ``staleness_of`` knows only the first."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" in str(error):
            return True
        raise
    return False
