"""`verify --format mermaid`: golden sequence diagrams (UPDATE_GOLDEN=1 regenerates),
what they say, and that Mermaid itself draws them: the pinned mermaid.min.js (from its
npm package) in headless Chromium; those tests skip without npm or Chromium."""
from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest

from conftest import ROOT, run_cli

GOLDEN = ROOT / "tests" / "golden"


@pytest.mark.parametrize("spec", ["specs/naive_failover.ha", "specs/async_failover_broken.ha",
                                  "tests/matrix/vote.ha"])
def test_golden_mermaid(spec):
    args = ["verify", spec, "--format", "mermaid"]
    if spec.endswith("vote.ha"):
        args += ["--scenario", "two_crashes", "--property", "elected"]
    proc = run_cli(*args)
    assert proc.returncode == 1
    assert proc.stdout.startswith("sequenceDiagram\n")
    assert "Result: VIOLATED" in proc.stderr  # the summary goes to stderr, the diagram alone to stdout
    golden = GOLDEN / (os.path.basename(spec).removesuffix(".ha") + ".mmd")
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(proc.stdout)
    assert proc.stdout == golden.read_text()


def test_one_arrow_per_delivered_message():
    proc = run_cli("verify", "specs/async_failover_broken.ha", "--format", "mermaid")
    arrows = [line for line in proc.stdout.splitlines() if "->>" in line]
    assert len(arrows) == 4


def test_lasso_is_a_loop_block(spec_file):
    p = spec_file("""
spec spin
role Worker {
  var done: bool = false
  var phase: 0..1 = 0
  action spin when not done { phase = 1 - phase }
  action finish when not done and phase == 0 { done = true }
}
property finishes: eventually Worker.done
""")
    out = run_cli("verify", str(p), "--format", "mermaid").stdout
    assert "    loop repeats forever\n" in out and "    end\n" in out


# ---- what the diagram says ----------------------------------------------------------------

def test_state_changes_are_notes_and_undelivered_messages_end_in_a_cross():
    out = run_cli("verify", "specs/async_failover_broken.ha", "--format", "mermaid").stdout.splitlines()
    # the action's note carries what it changed; a delivery is followed by a note of its changes
    assert "    Note over N0: 1. write<br/>next: 1 → 2" in out
    i = out.index("    N0->>N1: 2. Write(v=1)")
    assert out[i + 1] == "    Note over N1: log: [] → [(1, 1)]<br/>ghost acked: {} → {1}"
    # the broadcast's copies that never arrive: dotted, crossed, right after the send
    assert out[out.index("    Note over N0: 1. write<br/>next: 1 → 2") + 1:][:2] == [
        "    N0--xN2: Write(v=1): not delivered", "    N0--xN3: Write(v=1): not delivered"]
    vote = run_cli("verify", "tests/matrix/vote.ha", "--scenario", "two_crashes", "--property", "elected",
                   "--format", "mermaid").stdout
    assert "    N0--xN1: Ask(): not delivered (receiver down)\n" in vote


def test_a_lost_message_is_crossed_where_the_loss_drops_it(spec_file):
    p = spec_file("""
spec lossy
message Ping
role A {
  var sent: bool = false
  action go when not sent { sent = true  send Ping to B }
}
role B {
  var got: bool = false
  on Ping { got = true }
}
faults { loss at most 1 }
property delivered: eventually B.got
""")
    out = run_cli("verify", str(p), "--format", "mermaid").stdout
    assert "    N0--xN1: 2. network loses Ping()\n" in out
    assert "fault: loss" not in out  # the crossed arrow is the loss step's picture


def test_hash_and_semicolon_are_entity_codes():
    from modelcheck.report.mermaid import _label
    assert _label("a#b;c #35;") == "a#35;b#59;c #35;35#59;"


def test_an_assert_message_is_shown_verbatim(spec_file):
    p = spec_file("""
spec boom
role A {
  var x: 0..3 = 0
  action bump when x < 3 {
    x += 1
    assert x < 2, "x stays small; see #12"
  }
}
""")
    out = run_cli("verify", str(p), "--format", "mermaid").stdout
    assert "VIOLATED" not in out.splitlines()[-1] and "assert failed: x stays small#59; see #35;12" in out


# ---- rendered by Mermaid itself ----------------------------------------------------------

MERMAID = "11.17.2"  # pinned: the version the outputs are checked against


def _mermaid_js() -> Path:
    """mermaid.min.js of the pinned version, from its npm package (`npm pack`: one tarball,
    no dependencies: the file is self-contained), cached outside the repository."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is needed to fetch mermaid.min.js (not found on PATH)")
    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "modelcheck" / f"mermaid-{MERMAID}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # no writable home
        folder = Path(tempfile.gettempdir()) / f"modelcheck-mermaid-{MERMAID}"
        folder.mkdir(parents=True, exist_ok=True)
    js = folder / "mermaid.min.js"
    with open(folder / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # parallel workers fetch it once
        if not js.exists():
            proc = subprocess.run([npm, "pack", f"mermaid@{MERMAID}", "--silent"], cwd=folder,
                                  capture_output=True, text=True, timeout=300)
            if proc.returncode != 0:
                pytest.skip(f"npm pack mermaid@{MERMAID} failed: {proc.stderr.strip()[:200]}")
            tgz = folder / proc.stdout.strip().splitlines()[-1]
            with tarfile.open(tgz) as tar:
                data = tar.extractfile("package/dist/mermaid.min.js").read()
            js.write_bytes(data)
            tgz.unlink()
    return js


@pytest.fixture(scope="module")
def mermaid_page(tmp_path_factory):
    """A headless Chromium on a page with Mermaid loaded, and a function that renders a
    diagram there: (error or None, the texts Mermaid drew)."""
    import chromium
    js = _mermaid_js()
    driver = chromium.start(1400, 900)
    page = tmp_path_factory.mktemp("mermaid") / "page.html"
    page.write_text(f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>m</title></head><body>'
                    f'<script src="{js.as_uri()}"></script></body></html>', encoding="utf-8")
    driver.get(page.as_uri())
    driver.execute_script("mermaid.initialize({startOnLoad: false});")

    def render(text: str):
        return driver.execute_async_script("""
          const done = arguments[1], pre = document.createElement('pre');
          pre.className = 'mermaid'; pre.textContent = arguments[0];
          document.body.replaceChildren(pre);
          mermaid.run({nodes: [pre]})
            .then(() => done([null, Array.from(pre.querySelectorAll('svg text, svg foreignObject')).map(t => t.textContent)]))
            .catch(e => done([String(e), []]));""", text)
    yield render
    chromium.stop(driver)


@pytest.mark.parametrize("golden", ["naive_failover.mmd", "async_failover_broken.mmd", "vote.mmd",
                                    "naive_failover.graph.mmd"])
def test_mermaid_draws_the_goldens(mermaid_page, golden):
    error, texts = mermaid_page((GOLDEN / golden).read_text())
    assert error is None and texts


def test_mermaid_shows_hash_and_semicolon(mermaid_page):
    from modelcheck.report.mermaid import _label
    text = f"sequenceDiagram\n    participant N0 as A\n    Note over N0: {_label('x: #1 → a;b')}\n"
    error, texts = mermaid_page(text)
    assert error is None and "x: #1 → a;b" in texts
