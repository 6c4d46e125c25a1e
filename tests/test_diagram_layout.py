"""The sequence diagram keeps its layout promise on every gallery trace and on random ones.

The promise (report/diagram.py): no two texts overlap, no text sits on a step box or
another box it does not belong to, no text sticks out of its box or of the picture,
nothing a step changed is cut short, and the diagram fits the page or scrolls in it.
Checked twice: on the layout's own rectangles (fast, no browser), and in headless
Chromium on the rendered DOM (getBoundingClientRect of every <text>), which also
checks that the font metrics the layout assumed are the ones the browser uses.
Random traces are seeded random walks over real specs (every fault kind) and over a
wide stress spec with long names and growing values.
"""
from __future__ import annotations

import functools
import random
import re

import pytest

import chromium
from conftest import ROOT, pipeline
from test_html import FAULTY, FAULTY_SCRIPT, PINGPONG, scripted

from modelcheck import api
from modelcheck.engine.result import Result, Stats, Violation
from modelcheck.lang.diagnostics import Source
from modelcheck.report import fontmetrics as fm
from modelcheck.report.diagram import SequenceDiagram, render_diagram
from modelcheck.report.html import render_html
from modelcheck.report.text import Describer

GALLERY = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "specs").glob("*_broken.ha"))

# Five nodes, a long message name, fields and variables whose values grow long.
WIDE = """
spec wide_stress
message AnnouncementOfMembership(epoch: 0..3, origin: Peer, members: set<Peer>)
role Peer[5] {
  var epoch_number_seen: 0..3 = 0
  var members_heard_from: set<Peer> = {}
  var announcement_history: seq<0..3, 3> = []
  var is_coordinator_now: bool = false
  action announce when epoch_number_seen < 2 {
    epoch_number_seen += 1
    announcement_history = append(announcement_history, epoch_number_seen)
    broadcast AnnouncementOfMembership(epoch_number_seen, self, members_heard_from)
  }
  on AnnouncementOfMembership(e, o, m) {
    members_heard_from = members_heard_from | {o}
    is_coordinator_now = len(members_heard_from) >= 3
  }
}
faults {
  crash Peer at most 1
  restart
  loss at most 1
  duplicate at most 1
  partition at most 1
  heal
}
invariant calm: forall p in Peer: not p.is_coordinator_now
"""

RANDOM_SPECS = ["specs/stonith_mutual_broken.ha", "specs/zk_ack_before_fsync_broken.ha",
                "specs/raft_prevote_broken.ha", "specs/link_failover_broken.ha", "specs/bridge_failover_broken.ha",
                "specs/three_phase_commit_broken.ha", "tests/models/loss_duplicate.ha",
                "tests/models/duplicate_fifo.ha", "tests/models/set_delivery.ha", "WIDE"]


@functools.lru_cache(maxsize=None)
def gallery(spec: str):
    """(result, model, source) of verify on a spec, once per test process."""
    v = api.verify(str(ROOT / spec))
    return v.result, v.model, Source(spec, v.spec.source.text)


def random_walk(spec: str, seed: int, depth: int = 30):
    """A seeded random path of at most `depth` steps, as a Result; every other seed ends
    in a (pretend) violation of the spec's first invariant, so the banner is drawn too."""
    if spec == "WIDE":
        text, path = WIDE, "wide_stress.ha"
    else:
        text, path = (ROOT / spec).read_text(), spec
    model = pipeline(text, path=path)
    rng = random.Random(seed)
    state, trace = model.initial, []
    for _ in range(depth):
        succ = [t for t in model.successors(state) if t.state is not None]
        if not succ:
            break
        t = rng.choice(succ)
        trace.append((t.step, t.state))
        state = t.state
    violation = None
    if seed % 2 and model.invariants:
        inv = model.invariants[0]
        violation = Violation("invariant", inv.name, f"invariant '{inv.name}' is violated", inv.decl.expr.span)
    result = Result("violated" if violation else "holds", Stats(len(trace) + 1, len(trace), len(trace), 0.01),
                    model.initial, trace, violation, invariants=[i.name for i in model.invariants])
    return result, model, Source(path, text)


def cases():
    yield from ((spec, lambda spec=spec: gallery(spec)) for spec in GALLERY)
    yield "naive_failover", lambda: gallery("specs/naive_failover.ha")
    yield "pingpong", lambda: _text_case(PINGPONG)
    yield "faulty", _faulty


def _faulty():
    model = pipeline(FAULTY)
    return scripted(model, FAULTY_SCRIPT, "got_little"), model, Source("t.ha", FAULTY)


def _text_case(text):
    from modelcheck.engine.explorer import Options, explore
    model = pipeline(text)
    return explore(model, Options()), model, Source("t.ha", text)


CASES = dict(cases())
RANDOM = [(spec, seed) for spec in RANDOM_SPECS for seed in (1, 2, 3)]


def _changed_values(result, model) -> list[str]:
    """What each step changed on its own node, as its box writes it."""
    d = Describer(model)
    out, prev = [], result.initial
    for step, state in list(result.trace) + list(result.cycle or ()):
        if state is None:
            continue
        if step.node is not None:
            me = model.checked.node_names[step.node]
            out += [f"{w[len(me) + 1:]}: {a} → {b}" for w, a, b in d.changes(prev, state) if w.startswith(me + ".")]
        prev = state
    return out


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def check_layout(result, model, source) -> None:
    dg = SequenceDiagram(result, model, source)
    svg = dg.svg()
    assert dg.collisions() == []
    assert "…" not in svg and "more)" not in svg and "more changes" not in svg
    drawn = _squash("".join(t.text for t in dg.texts))
    for change in _changed_values(result, model):
        assert _squash(change) in drawn, change
    for k, role in enumerate(model.checked.node_roles):  # the start state: every variable
        for v in role.vars:
            assert _squash(f"{v.name}=") in drawn


# ---- the traces: on the layout's rectangles, then in Chromium ---------------------------
# One test per trace does both, so each trace is explored once; without Chromium the
# first half still runs and the test is reported skipped, saying why.

@pytest.mark.parametrize("case", list(CASES))
def test_known_traces(browser, tmp_path, case):
    traced = CASES[case]()
    check_layout(*traced)
    check_in_browser(browser, tmp_path, case, *traced)


@pytest.mark.parametrize("spec, seed", RANDOM)
def test_random_traces(browser, tmp_path, spec, seed):
    traced = random_walk(spec, seed)
    check_layout(*traced)
    check_in_browser(browser, tmp_path, f"{spec}-{seed}", *traced)


def test_wrapping_keeps_every_character():
    text = "VoteRequest(epoch=2, current=1, last_zxid=11) → Server[2]: not delivered (receiver down)"
    for room in (60, 120, 200, 400):
        lines = fm.wrap(text, room, 11)
        assert _squash("".join(lines)) == _squash(text)
        assert all(fm.width(line, 11) <= max(room, 4 * fm.ADVANCE * 11) + 0.01 for line in lines)
    assert fm.wrap("short", 400, 11) == ["short"]
    assert fm.columns("日本") == 4 and fm.columns("e\u0301") == 1


def test_witness_in_what_breaks():
    def callout(spec):
        page = render_html(*gallery(spec))
        return page.split('<div class="callout">', 1)[1].split("<section", 1)[0]
    assert re.findall(r'<div class="witness">([^<]*)</div>', callout("specs/zk_ack_before_fsync_broken.ha")) == [
        "fails for s = Server[1]", "fails for c = (2, 11)"]  # as the terminal's "why" says it
    assert "counted: Server[0], Server[1]" in callout("specs/naive_failover.ha")
    assert re.findall(r'<div class="witness">([^<]*)</div>', callout("specs/stonith_mutual_broken.ha")) == [
        "no n in Node satisfies n.active"]


def test_render_diagram_for_a_path_without_violation():
    result, model, source = random_walk("specs/stonith_mutual_broken.ha", 2, depth=12)
    assert result.violation is None
    svg, css, script = render_diagram(result, model, source)
    assert svg.startswith('<svg class="seq"') and "banner" not in svg
    assert "svg.seq" in css and "getComputedTextLength" in script
    assert render_diagram(result, model, source).svg == svg  # the same picture every time


# ---- in Chromium ------------------------------------------------------------------------

PROBLEMS_JS = chromium.RECTS_JS + r"""
const svg = document.querySelector('svg.seq');
const out = {problems: [], worst: 0, texts: 0};
if (!svg) return out;
const frame = svg.getBoundingClientRect();
const texts = Array.from(svg.querySelectorAll('text'));
const boxes = Array.from(svg.querySelectorAll(
  'g.box > rect, g.badge > rect, g.note > rect, g.banner > rect, g.lane-head > rect'));
const rects = texts.map(t => t.getBoundingClientRect());
const boxRects = boxes.map(b => b.getBoundingClientRect());
out.texts = texts.length;
texts.forEach((t, i) => {
  const holder = t.parentNode.matches('g.box, g.badge, g.note, g.banner, g.lane-head') ? t.parentNode : null;
  const r = rects[i], own = holder && holder.querySelector(':scope > rect');
  const size = parseFloat(getComputedStyle(t).fontSize);
  const planned = Array.from(t.textContent).length * (1233 / 2048) * size;
  out.worst = Math.max(out.worst, Math.abs(t.getComputedTextLength() - planned));
  if (!within(r, frame)) out.problems.push('outside the picture: ' + t.textContent);
  if (own && !within(r, own.getBoundingClientRect())) out.problems.push('clipped by its box: ' + t.textContent);
  boxes.forEach((b, j) => {
    if (b !== own && hit(r, boxRects[j])) out.problems.push('on a box: ' + t.textContent);
  });
  for (let j = i + 1; j < texts.length; j++) {
    if (hit(r, rects[j])) out.problems.push('overlap: ' + t.textContent + ' / ' + texts[j].textContent);
  }
});
// HTML text that spills out of its element
document.querySelectorAll('.callout div, .callout pre, table.steps td, .summary .kv').forEach(e => {
  if (e.scrollWidth > e.clientWidth + 1) out.problems.push('spills: ' + e.textContent.slice(0, 60));
});
// the diagram fits the page, or its own box scrolls: the page itself never does
const pane = svg.closest('.diagram');
const scrolls = getComputedStyle(pane).overflowX;
if (pane.scrollWidth > pane.clientWidth + 1 && !['auto', 'scroll'].includes(scrolls))
  out.problems.push('diagram wider than the page and not scrollable');
if (document.documentElement.scrollWidth > window.innerWidth + 1)
  out.problems.push('the page scrolls sideways: ' + document.documentElement.scrollWidth);
return out;
"""


@pytest.fixture(scope="module")
def browser():
    """One Chromium for the module, or the reason there is none (a string)."""
    try:
        driver = chromium.start(1440, 1000)
    except pytest.skip.Exception as why:
        yield str(why)
        return
    yield driver
    chromium.stop(driver)


def check_in_browser(browser, tmp_path, name: str, result, model, source) -> dict:
    if isinstance(browser, str):
        pytest.skip(f"checked without a browser only: {browser}")
    page = tmp_path / f"{name.replace('/', '_')}.html"
    if result.violation is not None:
        page.write_text(render_html(result, model, source), encoding="utf-8")
    else:  # a path with no violation: the diagram alone, as `explore` shows one
        svg, css, script = render_diagram(result, model, source)
        page.write_text(f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>path</title><style>{css}</style>'
                        f'</head><body><div class="diagram">{svg}</div><script>{script}</script></body></html>',
                        encoding="utf-8")
    browser.get(page.as_uri())
    report = browser.execute_script(PROBLEMS_JS)
    assert report["problems"] == []
    assert report["texts"] > 0
    # the layout's font metrics are the browser's: every line within half a pixel
    assert report["worst"] < 0.5, "the diagram's text is not in DejaVu Sans Mono here (apt-get install fonts-dejavu-core)"
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    return report


def test_in_chromium_narrow_window_scrolls_the_diagram_only(browser, tmp_path):
    if isinstance(browser, str):
        pytest.skip(browser)
    browser.set_window_size(900, 900)
    try:
        check_in_browser(browser, tmp_path, "narrow", *gallery("specs/raft_prevote_broken.ha"))
        assert browser.execute_script(
            "const p = document.querySelector('.diagram'); return p.scrollWidth > p.clientWidth")
    finally:
        browser.set_window_size(1440, 1000)


def test_in_chromium_a_wider_font_is_squeezed_back(browser, tmp_path):
    """Without DejaVu Sans Mono or Menlo the page's script fits each line to its planned
    width: forced here with a proportional font, wider than the layout planned."""
    if isinstance(browser, str):
        pytest.skip(browser)
    result, model, source = gallery("specs/zk_ack_before_fsync_broken.ha")
    page = tmp_path / "other_font.html"
    html = render_html(result, model, source).replace(
        "</style>", 'svg.seq { font-family:"DejaVu Serif", serif !important; }\n</style>', 1)
    page.write_text(html, encoding="utf-8")
    browser.get(page.as_uri())
    report = browser.execute_script(PROBLEMS_JS)
    squeezed = browser.execute_script("return document.querySelectorAll('svg.seq text[textLength]').length")
    assert squeezed > 0 and report["problems"] == []
