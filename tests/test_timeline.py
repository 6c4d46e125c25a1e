"""The HTML report's timeline of client operations (report/timeline.py) keeps its promise.

The promise: one row per client, a bar per operation over its steps, every operation's
text written out in full, no label on another label or on a bar, nothing outside the
picture, the operation that cannot be ordered in red with the check's name, and a
report without client operations unchanged. Checked on the layout's own rectangles
(no browser), on the two gallery violations found by a consistency check, on a
truncated trace (a pending operation) and on a made-up crowded history; then once
in headless Chromium on the rendered DOM (skipped without it).
"""
from __future__ import annotations

import functools
from types import SimpleNamespace

import pytest

import chromium
from conftest import ROOT

from modelcheck import api
from modelcheck.consistency.history import operation_call
from modelcheck.consistency.monitor import READ, WRITE
from modelcheck.engine.result import Result
from modelcheck.lang.diagnostics import Source
from modelcheck.report.html import render_html
from modelcheck.report.timeline import Timeline, render_timeline

CASES = {"stale_read_history_broken": ("specs/stale_read_history_broken.ha", None),
         "read_only_degraded_history": ("specs/read_only_degraded_history.ha", {"CHECK_FRESH": 1})}


@functools.lru_cache(maxsize=None)
def verified(case: str):
    spec, consts = CASES[case]
    v = api.verify(str(ROOT / spec), consts=consts)
    assert v.result.verdict == "violated"
    return v.result, v.model, Source(spec, v.spec.source.text)


def steps(result: Result) -> list:
    return [s for s, _ in result.trace]


def check_layout(t: Timeline) -> str:
    """The promise on the layout's rectangles; returns the picture."""
    assert t.collisions() == []
    svg = t.svg()
    for p in t.placed:
        assert p.text.startswith(operation_call(t.model, p.op))
        assert f">{p.text.replace('<', '&lt;').replace('>', '&gt;')}</text>" in svg  # whole, never cut
        assert p.bar.x0 < p.bar.x1
        assert p.label.y1 <= p.bar.y0  # the label sits above its own bar
    return svg


@pytest.mark.parametrize("case", sorted(CASES))
def test_gallery_violation(case):
    result, model, source = verified(case)
    t = Timeline(model, steps(result))
    svg = check_layout(t)
    assert len(t.placed) == 2 and len({p.op.client for p in t.placed}) == len(t.rows)
    blamed = [p for p in t.placed if p.op.blamed]
    assert len(blamed) == 1 and blamed[0].op.kind == "read"
    assert "cannot be ordered (linearizable)" in blamed[0].text
    assert 'class="o blamed"' in svg and "linearizable" in t.caption()
    # the bars follow the steps: the write ends before the read begins
    write, read = sorted(t.placed, key=lambda p: p.op.invoked)
    assert write.bar.x1 < read.bar.x0
    page = render_html(result, model, source)
    section = render_timeline(result, model)
    assert section in page and page.index(section) < page.index("<h2>Counterexample</h2>")
    assert "http://" not in section and "<script" not in section
    assert render_timeline(result, model) == section  # the same bytes every time


def test_pending_operation_is_open_ended():
    result, model, _ = verified("stale_read_history_broken")
    t = Timeline(model, steps(result)[:-1])  # the read has not returned yet
    svg = check_layout(t)
    pending = [p for p in t.placed if p.op.completed is None]
    assert len(pending) == 1 and pending[0].text.endswith("pending")
    assert 'class="bar pending"' in svg and 'class="head"' in svg
    assert pending[0].bar.x1 > t.x(t.n + 1)  # past the last step


def test_crowded_history_drops_to_sub_rows():
    """Single-step reads in consecutive steps: each label is wider than its bar, so the
    reads share no sub-row with a label they would run into."""
    result, model, _ = verified("stale_read_history_broken")
    writer, reader = model.checked.node_names.index("Writer"), model.checked.node_names.index("Reader")
    made = [SimpleNamespace(ops=(("invoke", 0, writer, WRITE, None, 2),))]
    for _ in range(4):
        made.append(SimpleNamespace(ops=(("invoke", 0, reader, READ, None, None),)))
        made[-1] = SimpleNamespace(ops=made[-1].ops + (("complete", 0, reader, READ, None, 1),))
    t = Timeline(model, made)
    check_layout(t)
    assert len(t.placed) == 5 and len(t.rows) == 2
    reads = [p for p in t.placed if p.op.client == reader]
    assert len({p.bar.y0 for p in reads}) > 1


def test_no_client_operations_no_timeline():
    """A spec without registers gets the page it always had (the section is "" and the
    page's sections are joined skipping empty ones)."""
    v = api.verify(str(ROOT / "specs/naive_failover.ha"))
    assert render_timeline(v.result, v.model) == ""
    page = render_html(v.result, v.model, Source("specs/naive_failover.ha", v.spec.source.text))
    assert 'class="timeline"' not in page and "Client history" not in page


# ---- in Chromium ------------------------------------------------------------------------

PROBLEMS_JS = chromium.RECTS_JS + r"""
const svg = document.querySelector('svg.timeline');
const out = {problems: [], worst: 0, texts: 0};
if (!svg) { out.problems.push('no timeline'); return out; }
const frame = svg.getBoundingClientRect();
const texts = Array.from(svg.querySelectorAll('text'));
const bars = Array.from(svg.querySelectorAll('rect.bar')).map(b => b.getBoundingClientRect());
const rects = texts.map(t => t.getBoundingClientRect());
out.texts = texts.length;
texts.forEach((t, i) => {
  const r = rects[i];
  const size = parseFloat(getComputedStyle(t).fontSize);
  const planned = Array.from(t.textContent).length * (1233 / 2048) * size;
  out.worst = Math.max(out.worst, Math.abs(t.getComputedTextLength() - planned));
  if (!within(r, frame)) out.problems.push('outside the picture: ' + t.textContent);
  bars.forEach(b => { if (hit(r, b)) out.problems.push('on a bar: ' + t.textContent); });
  for (let j = i + 1; j < texts.length; j++)
    if (hit(r, rects[j])) out.problems.push('overlap: ' + t.textContent + ' / ' + texts[j].textContent);
});
const pane = svg.parentNode;
if (pane.scrollWidth > pane.clientWidth + 1 && getComputedStyle(pane).overflowX !== 'auto')
  out.problems.push('the timeline is clipped');
if (document.documentElement.scrollWidth > window.innerWidth + 1)
  out.problems.push('the page scrolls sideways');
return out;
"""


@pytest.fixture(scope="module")
def browser():
    driver = chromium.start(1300, 1000)
    yield driver
    chromium.stop(driver)


def test_in_chromium(browser, tmp_path):
    result, model, source = verified("stale_read_history_broken")
    page = tmp_path / "timeline.html"
    page.write_text(render_html(result, model, source), encoding="utf-8")
    browser.get(page.as_uri())
    report = browser.execute_script(PROBLEMS_JS)
    assert report["problems"] == [] and report["texts"] > 2
    assert report["worst"] < 0.5, "not drawn in DejaVu Sans Mono here (apt-get install fonts-dejavu-core)"
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
