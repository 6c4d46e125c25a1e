"""The self-contained HTML report (`verify --html FILE`): html_report.render_html.

The structural tests run everywhere. The browser test loads a report in headless
Chromium through selenium, with Debian's chromium and chromedriver; it is skipped
when any of them is missing.
"""
from __future__ import annotations

import re

import pytest

import chromium
from conftest import ROOT, pipeline
from modelcheck.lang.diagnostics import Source
from modelcheck.engine.explorer import Options, explore
from modelcheck.engine.result import Result, Stats, Violation
from modelcheck.report.html import render_html
from modelcheck.report.text import Describer


def run(text: str, path: str = "t.ha", **build):
    model = pipeline(text, path=path, **build)
    return model, explore(model, Options()), Source(path, text)


def run_spec(rel: str):
    return run((ROOT / rel).read_text(), path=rel)


def steps_of(result: Result) -> list:
    return [s for s, _ in result.trace] + [s for s, _ in (result.cycle or [])]


def delivered(result: Result) -> int:
    return sum(1 for s in steps_of(result) if s.kind == "deliver")


def arrows(page: str) -> int:
    return len(re.findall(r'class="msg-arrow[ "]', page))


def assert_self_contained(page: str) -> None:
    assert "http://" not in page and "https://" not in page
    assert "<link" not in page and "@import" not in page
    assert not re.search(r"<(script|img|iframe)[^>]*\ssrc=", page)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")


# ---- specs --------------------------------------------------------------------------

PINGPONG = """
spec pingpong
message Ping
message Pong
role P {
  var started: bool = false
  var done: bool = false
  action start when not started {
    started = true
    send Ping to Q
  }
  on Pong { send Ping to Q }
}
role Q {
  on Ping { reply Pong }
}
property finishes: eventually P.done
"""

# A scripted trace through every kind of network fault, crash and restart.
FAULTY = """
spec faulty
message Ping(n: 0..4)
network { delivery unordered }
role Node[2] {
  var sent: 0..4 = 0
  var got: 0..4 = 0
  action ping when self == Node[0] and sent < 4 {
    sent += 1
    send Ping(sent) to Node[1]
  }
  on Ping(n) { got = n }
}
faults {
  partition at most 1
  heal
  one_way at most 1
  loss at most 1
  duplicate at most 1
  crash Node at most 1
  restart
}
invariant got_little: Node[1].got < 3
"""

FAULTY_SCRIPT = [
    "Node[0] does ping",                      # 1  Ping(1)
    "network partition",                      # 2
    "Node[0] does ping",                      # 3  Ping(2)
    "duplicates Ping(n=2)",                   # 4  a second copy of Ping(2)
    "network heals",                          # 5
    "Node[1] receives Ping(n=1)",             # 6
    "loses Ping(n=2)",                        # 7  the original copy: lost
    "Node[1] receives Ping(n=2)",             # 8  the duplicate
    "Node[1] crashes",                        # 9
    "Node[1] restarts",                       # 10
    "Node[0] does ping",                      # 11 Ping(3)
    "link Node[1] -> Node[0] cut",            # 12 never healed
    "Node[0] does ping",                      # 13 Ping(4): never delivered
    "Node[1] receives Ping(n=3)",             # 14 got = 3: the invariant breaks
]


def scripted(model, picks: list[str], invariant: str) -> Result:
    """A Result whose trace takes, at each state, the first step whose text contains the pick."""
    d = Describer(model)
    state, trace = model.initial, []
    for pick in picks:
        tr = next(t for t in model.successors(state) if pick in d.headline(t.step))
        trace.append((tr.step, tr.state))
        state = tr.state
    inv = next(i for i in model.invariants if i.name == invariant)
    assert not inv.holds(state)
    v = Violation("invariant", invariant, f"invariant '{invariant}' is violated", inv.decl.expr.span)
    return Result("violated", Stats(len(picks) + 1, len(picks), len(picks), 0.01), model.initial, trace, v,
                  invariants=[invariant])


# ---- tests --------------------------------------------------------------------------

def test_naive_failover_split_brain_at_a_glance():
    model, result, source = run_spec("specs/naive_failover.ha")
    page = render_html(result, model, source)
    assert_self_contained(page)
    assert result.verdict == "violated" and delivered(result) == 0
    assert arrows(page) == 0
    # the verdict and the run summary
    assert '<div class="verdict">VIOLATED</div>' in page
    for fact in ("naive_failover", "partition at most 1, heal, loss at most 1", "single_primary",
                 f"{result.stats.distinct_states:,} distinct", f"{result.stats.transitions:,}"):
        assert fact in page
    # one lane per server, the three steps as boxes on Server[1]'s lane
    assert page.count('<g class="lane-head">') == 2
    assert page.count('<g class="box action">') == 3
    assert "3. promote" in page and "primary: false → true" in page
    # both lanes end in a red primary=true badge
    bad = re.findall(r'<g class="badge final bad">.*?</g>', page, re.S)
    assert len(bad) == 2 and all(">primary=true<" in b for b in bad)
    assert "VIOLATED: invariant single_primary" in page
    # step table: a row per step, with the changed variable only
    assert len(re.findall(r'<tr id="row-\d+"', page)) == 3
    assert "Server[1].primary: false → <b>true</b>" in page
    assert "Server[0].primary" not in page.split('<table class="steps">')[1].split("last state")[0]
    # why: the explainer's values
    assert "counted: Server[0], Server[1]" in page and "(2 &lt;= 1)" in page
    # the source: the invariant line violated, the handlers taken highlighted with their steps
    assert re.search(r'<div class="line viol" id="L61">', page)
    assert re.search(r'<div class="line taken" id="L46">.*steps 1–2</span>', page)
    assert re.search(r'<div class="line taken" id="L50">.*step 3</span>', page)
    # the spec's opening comment explains the design to a newcomer
    assert "Naive heartbeat failover (no quorum): split brain" in page


def test_one_arrow_per_delivered_message_with_dangling_sends():
    model, result, source = run_spec("specs/async_failover_broken.ha")
    page = render_html(result, model, source)
    assert_self_contained(page)
    assert delivered(result) == 4
    assert arrows(page) == 4
    # the client's write is broadcast to three servers; only Server[0] receives it
    assert "Write(v=1) → Server[1], Server[2]: not delivered" in page
    assert page.count('class="msg-dangling"') >= 2


def test_lasso_repeats_forever():
    model, result, source = run(PINGPONG)
    assert result.cycle, "expected a lasso with a non-empty cycle"
    page = render_html(result, model, source)
    assert_self_contained(page)
    assert arrows(page) == delivered(result) >= 2
    assert 'class="lasso"' in page and ">repeats<" in page and ">forever<" in page
    assert page.count('<tr id="row-') == len(result.trace) + len(result.cycle)
    assert "repeat forever" in page or "repeats forever" in page
    assert "VIOLATED: property finishes" in page
    # the Ping sent by the cycle's last step is the one its first step receives, next time round
    assert "Ping() → Q: delivered in the next round" in page


def test_stuck_lasso_with_crashes():
    from modelcheck.lang.checker import check
    from modelcheck.engine.model import build
    from modelcheck.lang.parser import parse

    rel = "tests/matrix/vote.ha"
    source = Source(rel, (ROOT / rel).read_text())
    checked = check(parse(source), {})
    model = build(checked, source, property_names=["elected"], faults=checked.scenarios["two_crashes"])
    result = explore(model, Options())
    assert result.cycle == []
    page = render_html(result, model, source)
    assert_self_contained(page)
    assert "stuck from here" in page
    crashes = sum(1 for s in steps_of(result) if s.kind == "crash")
    assert crashes >= 1 and page.count('<g class="box crash">') == crashes
    assert 'class="lane lane-down"' in page  # the crashed node's lane is greyed
    assert arrows(page) == delivered(result)


def test_partition_loss_duplicate_crash_restart():
    model = pipeline(FAULTY)
    result = scripted(model, FAULTY_SCRIPT, "got_little")
    page = render_html(result, model, Source("t.ha", FAULTY))
    assert_self_contained(page)
    assert arrows(page) == delivered(result) == 3
    assert page.count('class="msg-arrow dup"') == 1  # the duplicated copy is the one delivered at step 8
    # the original Ping(2) was dropped by the loss at step 7; Ping(4) never arrives
    assert page.count('<g class="msg-dangling lost"') == 1 and "7. network loses Ping(n=2) → Node[1]" in page
    assert "Ping(n=4) → Node[1]: not delivered" in page
    # a band from the partition to the heal, and one from the one-way cut to the end
    assert page.count('class="cut-band"') == 2
    cuts = [" ".join(t.strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", g))
            for g in re.findall(r'<g class="cut-label">(.*?)</g>', page, re.S)]
    assert "links cut: Node[0]-&gt;Node[1], Node[1]-&gt;Node[0]" in cuts  # wrapped in the column, whole
    assert "links cut: Node[1]-&gt;Node[0]" in cuts and "never healed in this trace" in cuts
    assert '<g class="box crash">' in page and '<g class="box restart">' in page
    assert page.count('class="lane lane-down"') == 1
    assert "9. crashes" in page and "got: 2 → 0" in page  # the crash wipes the volatile variable
    bad = re.findall(r'<g class="badge final bad">.*?</g>', page, re.S)
    assert len(bad) == 1 and ">got=3<" in bad[0]


def test_assert_failure():
    text = """
spec boom
role A {
  var x: 0..3 = 0
  action bump when x < 3 {
    x += 1
    assert x < 2, "x stays small"
  }
}
"""
    model, result, source = run(text)
    assert result.violation.kind == "assert"
    page = render_html(result, model, source)
    assert_self_contained(page)
    assert "VIOLATED: assert failed" in page and "ERROR: " in page
    assert "box action error" in page


def test_no_violation_is_a_short_page():
    text = """
# A counter that never passes its bound.
spec calm
role A {
  var x: 0..3 = 0
  action bump when x < 3 { x += 1 }
}
invariant bounded: A.x <= 3
"""
    model, result, source = run(text)
    assert result.verdict == "holds"
    page = render_html(result, model, source)
    assert_self_contained(page)
    assert '<div class="verdict">HOLDS</div>' in page
    assert "every invariant holds in every reachable state" in page
    assert "<svg" not in page and arrows(page) == 0
    assert "A counter that never passes its bound." in page
    assert 'class="line checked" id="L8"' in page


def test_incomplete_run():
    model, _, source = run_spec("specs/naive_failover.ha")
    result = explore(model, Options(max_states=3))
    assert result.verdict == "incomplete"
    page = render_html(result, model, source)
    assert '<div class="verdict">INCOMPLETE</div>' in page and "--max-states bound" in page


# ---- in a real browser ----------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    driver = chromium.start(1300, 1000)
    yield driver
    chromium.stop(driver)


@pytest.mark.parametrize("case", ["naive_failover", "async_failover_broken", "pingpong", "faulty"])
def test_in_browser(browser, tmp_path, case):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    if case == "pingpong":
        model, result, source = run(PINGPONG)
    elif case == "faulty":
        model = pipeline(FAULTY)
        result, source = scripted(model, FAULTY_SCRIPT, "got_little"), Source("t.ha", FAULTY)
    else:
        model, result, source = run_spec(f"specs/{case}.ha")
    page = tmp_path / f"{case}.html"
    page.write_text(render_html(result, model, source), encoding="utf-8")
    browser.get(page.as_uri())
    assert browser.title.startswith("modelcheck: ")
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg .msg-arrow")) == delivered(result)
    # the SVG is laid out: lanes have height, arrows have length
    svg = browser.find_element(By.CSS_SELECTOR, "svg.seq")
    assert svg.size["height"] > 100
    # hovering a step row lights up its handler's source line
    row = browser.find_element(By.CSS_SELECTOR, "tr[data-step='1']")
    line = row.get_attribute("data-line")
    ActionChains(browser).move_to_element(row).perform()
    assert "hl" in browser.find_element(By.ID, f"L{line}").get_attribute("class").split()
    assert "hl" in browser.find_element(By.CSS_SELECTOR, "g.step[data-step='1']").get_attribute("class").split()
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
