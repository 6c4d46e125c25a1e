"""`modelcheck explore` in a real browser: headless Chromium driven by selenium
(Debian's chromium and chromium-driver; skipped, saying so, when they are absent).
One server and one browser for the module: open a gallery spec, click through the
counterexample `verify` finds, watch the invariant turn red at its last step, reload
the page's URL, go back and forward, export the path and replay it."""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request

import pytest

from conftest import ROOT, run_cli
from modelcheck import api

SPEC = ROOT / "specs/stonith_unconfirmed_broken.ha"  # 4 steps break invariant single_active
INVARIANT = "single_active"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1400,1000")


@pytest.fixture(scope="module")
def explorer():
    """The explorer of SPEC, started from the command line: (base URL)."""
    proc = subprocess.Popen([sys.executable, "-m", "modelcheck", "explore", str(SPEC), "--port", "0", "--no-browser"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert " at http://127.0.0.1:" in line, line + proc.stderr.read()
    yield line.rsplit(" at ", 1)[1].strip()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0 and "Traceback" not in err, err


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.common.exceptions import WebDriverException

    chrome = next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)
    driver_path = shutil.which("chromedriver")
    if chrome is None or driver_path is None:
        pytest.skip("needs chromium and chromedriver (Debian: apt-get install -y chromium chromium-driver)")
    profile = tempfile.mkdtemp(prefix="explore-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    for arg in FLAGS + (f"--user-data-dir={profile}",):
        opts.add_argument(arg)
    try:
        driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=driver_path), options=opts)
    except WebDriverException as err:
        pytest.skip(f"chromium did not start: {err.msg}")
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def wait(driver, condition, what: str, seconds: float = 20):
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(driver, seconds, poll_frequency=0.05).until(lambda d: condition(d), message=what)


def position(driver) -> str:
    return driver.find_element("id", "position").text


def invariant_class(driver) -> str:
    return driver.find_element("css selector", f'#invariants li[data-name="{INVARIANT}"]').get_attribute("class")


def click_step(driver, label: str) -> None:
    """The enabled step's button whose label (its first line) is `label`."""
    found = driver.execute_script(
        "var label = arguments[0], b = [].filter.call(document.querySelectorAll('#enabled button'),"
        " function (x) { return x.firstChild.textContent === label; });"
        "if (b.length !== 1) return b.length; b[0].click(); return 1;", label)
    assert found == 1, f"{found} buttons labelled {label!r}"


def test_click_through_verify_s_counterexample(browser, explorer, tmp_path):
    labels = [s.label for s in api.verify(api.load(SPEC)).trace]
    assert len(labels) == 4
    browser.get(explorer)
    wait(browser, lambda d: position(d) == "step 0 of 0", "the initial state")
    assert invariant_class(browser) == "holds"
    for k, label in enumerate(labels, 1):
        click_step(browser, label)
        wait(browser, lambda d: position(d) == f"step {k} of {k}", f"step {k}")
        expected = "fails" if k == len(labels) else "holds"
        assert invariant_class(browser) == expected, f"after step {k} ({label})"
    assert f"{INVARIANT} is violated" in browser.find_element("id", "invariants").text
    # the path in the page is the report's diagram, with its red banner
    wait(browser, lambda d: d.execute_script(
        "var f = document.getElementById('diagram').contentDocument;"
        "return f && f.querySelector('svg.seq g.banner') !== null;"), "the diagram's banner")
    state = browser.find_element("id", "state").text
    path_text = browser.find_element("id", "path").text

    # the URL names the path: a fresh load shows the same state
    url = browser.current_url
    assert "path=" in url and url.endswith("&at=4")
    browser.get("about:blank")
    browser.get(url)
    wait(browser, lambda d: position(d) == "step 4 of 4", "the reloaded path")
    assert browser.find_element("id", "state").text == state
    assert browser.find_element("id", "path").text == path_text
    assert invariant_class(browser) == "fails"

    # back and forward move along the path; the browser's own back button too
    browser.find_element("id", "back").click()
    wait(browser, lambda d: position(d) == "step 3 of 4", "one step back")
    assert invariant_class(browser) == "holds"
    browser.find_element("id", "forward").click()
    wait(browser, lambda d: position(d) == "step 4 of 4", "one step forward")
    browser.back()
    wait(browser, lambda d: position(d) == "step 3 of 4", "the browser's back button")
    browser.forward()
    wait(browser, lambda d: position(d) == "step 4 of 4", "the browser's forward button")

    # the export button's trace replays
    href = browser.find_element("id", "export").get_attribute("href")
    with urllib.request.urlopen(href, timeout=30) as r:
        doc = json.loads(r.read())
    trace = tmp_path / "exported.json"
    trace.write_text(json.dumps(doc))
    proc = run_cli("replay", str(SPEC), str(trace))
    assert proc.returncode == 0 and "Reproduced: invariant 'single_active'" in proc.stdout, proc.stdout + proc.stderr


def test_expressions_and_their_errors_in_the_page(browser, explorer):
    browser.get(explorer + "?path=&at=0")
    wait(browser, lambda d: position(d) == "step 0 of 0", "the initial state")
    box = browser.find_element("id", "expr")
    box.send_keys("count(n in Node where n.actve)\n")
    diag = wait(browser, lambda d: d.find_elements("css selector", "#eval-result pre.diagnostics"), "diagnostics")
    text = diag[0].text
    assert text.startswith("<expression>:1:") and "error[E" in text and "^" in text
    box.clear()
    box.send_keys("count(n in Node where n.active)\n")
    value = wait(browser, lambda d: d.find_elements("css selector", "#eval-result .value"), "a value")
    assert value[0].text.startswith("= ") and "(int)" in value[0].text
