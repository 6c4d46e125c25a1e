"""`modelcheck check` warnings (modelcheck/smt/lint.py): each one at the right line,
no false alarms on expressions outside the z3 fragment, --strict."""
from __future__ import annotations

import re

from conftest import ROOT, run_cli

PLANTED = """spec planted
const N = 3
enum Phase { idle, busy, done }
message Ping(n: 0..3)
message Pong
message Orphan
role Server[N] {
  var phase: Phase = idle
  var total: 0..3 = 0
  var scratch: 0..3 = 0
  var seen: set<node> = {}
  on Ping(n) when n > 3 {
    total = n
  }
  on Pong {
    phase = done
  }
  action start when phase == idle and total <= 3 {
    phase = busy
    scratch = 1
    broadcast Ping(total)
    send Orphan to self
  }
  action odd when phase == busy and phase == done {
    total = 0
  }
  action fine when self in seen or total + 1 > 3 {
    seen = seen | {self}
  }
}
faults { crash Server at most 5 }
invariant bounded: forall s in Server: s.total <= 3
invariant sensible: count(s in Server where s.phase == busy) <= 1
invariant impossible: exists s in Server: s.total > 3
"""


def warnings(path) -> list[tuple[str, int]]:
    proc = run_cli("check", str(path))
    assert proc.returncode == 0, proc.stderr
    out = []
    for line in proc.stderr.splitlines():
        found = re.match(r"(.*?): warning\[W\d+\]: (.*)", line)  # rustc style: warning[W101]
        if found:
            out.append((found.group(2), int(found.group(1).split(":")[1])))
    return out


def test_planted_mistakes_are_found_at_their_lines(spec_file):
    got = warnings(spec_file(PLANTED))

    text = "\n".join(f"{line}: {msg}" for msg, line in got)
    assert ("this guard can never hold: handler 'on Ping' of role Server never runs", 12) in got, text
    assert ("this guard can never hold: action 'odd' of role Server never runs", 24) in got, text
    assert any(line == 32 and "'bounded' holds in every state" in msg for msg, line in got), text
    assert any(line == 34 and "'impossible' can never hold" in msg for msg, line in got), text
    assert any(line == 15 and "nothing sends 'Pong'" in msg for msg, line in got), text
    assert any(line == 22 and "'Orphan' is sent but no role handles it" in msg for msg, line in got), text
    assert any(line == 10 and "variable 'scratch' of role Server is written but never read" in msg
               for msg, line in got), text
    assert any(line == 31 and "'crash at most 5' can never be used up" in msg for msg, line in got), text
    # no false alarms: `fine` uses a set (outside the fragment), `sensible` can fail,
    # `count` and `phase` are read
    assert not any("'fine'" in msg or "'sensible'" in msg or "'total'" in msg or "'phase'" in msg
                   for msg, _ in got), text
    assert len(got) == 8, text



def test_strict_fails_on_warnings(spec_file):
    p = spec_file(PLANTED)
    proc = run_cli("check", str(p), "--strict")
    assert proc.returncode == 2 and "8 warnings" in proc.stderr


def test_clean_examples_have_no_warnings():
    for spec in ["specs/naive_failover.ha", "specs/majority_election.ha", "specs/stale_read_fixed.ha"]:
        proc = run_cli("check", str(ROOT / spec), "--strict")
        assert proc.returncode == 0, proc.stderr


def test_a_const_switched_feature_says_so():
    proc = run_cli("check", str(ROOT / "specs/zk_ack_before_fsync_broken.ha"))
    assert "it is dead with LATE_SYNC = 0" in proc.stderr
    proc = run_cli("check", str(ROOT / "specs/zk_ack_before_fsync_broken.ha"), "--const", "LATE_SYNC=1")
    assert "never runs" not in proc.stderr


# ---- bounds: nested quantifiers are expanded over every node, (nodes)^(depth) ----

def _nested(depth: int, nodes: int, body: str, where: str = "invariant") -> str:
    names = [f"a{i}" for i in range(depth)]
    q = "".join(f"forall {v} in S: " for v in names) + body.format(first=names[0], last=names[-1])
    guard = q if where == "guard" else "not x"
    inv = q if where == "invariant" else "exists s in S: s.x"
    return f"""spec nested
role S[{nodes}] {{
  var x: bool = false
  action a when {guard} {{ x = true }}
}}
invariant i: {inv}
"""


def _timed_check(path, *extra):
    import time
    start = time.monotonic()
    proc = run_cli("check", str(path), *extra)
    return proc, time.monotonic() - start


def test_deeply_nested_quantifiers_are_skipped_with_a_note(spec_file):
    # 20 nested foralls over 2 nodes: 2^20 instances; before the bound, minutes
    proc, seconds = _timed_check(spec_file(_nested(20, 2, "{first}.x == {last}.x")))
    assert proc.returncode == 0, proc.stderr
    assert seconds < 20, seconds
    assert ("spec.ha:6:14: note: W102 not checked for invariant 'i': too large to encode (6,291,455 instances; "
            "limit 20,000)") in proc.stderr, proc.stderr
    assert "warning[" not in proc.stderr and "ok: spec nested" in proc.stdout


def test_a_large_role_with_three_nested_quantifiers_is_skipped(spec_file):
    # S[60], three nested foralls: 216,000 leaves (26 s and 381 MB before the bound)
    proc, seconds = _timed_check(spec_file(_nested(3, 60, "{first}.x == {last}.x")), "--strict")
    assert proc.returncode == 0, proc.stderr  # a note is not a warning, even with --strict
    assert seconds < 20, seconds
    assert "note: W102 not checked for invariant 'i': too large to encode (1,083,661 instances" in proc.stderr


def test_a_nested_guard_is_skipped_with_a_note(spec_file):
    proc, seconds = _timed_check(spec_file(_nested(15, 2, "({first} == {last} or x)", where="guard")))
    assert proc.returncode == 0, proc.stderr
    assert seconds < 20, seconds
    assert ("spec.ha:4:17: note: W101 not checked for the guard of action 'a' of role S: too large to encode "
            "(196,607 instances; limit 20,000)") in proc.stderr, proc.stderr


def test_nested_quantifiers_under_the_limit_are_still_checked(spec_file):
    # 3 nested over S[4]: 64 leaves; `a0 == a0` makes it hold in every state (W102)
    proc = run_cli("check", str(spec_file(_nested(3, 4, "{first} == {first}"))))
    assert proc.returncode == 0
    assert "note:" not in proc.stderr
    assert "invariant 'i' holds in every state of the declared types" in proc.stderr


def test_the_z3_checks_share_one_time_budget():
    from modelcheck.lang.checker import check
    from modelcheck.lang.diagnostics import Source
    from modelcheck.smt.lint import lint
    from modelcheck.lang.parser import parse

    checked = check(parse(Source("planted.ha", PLANTED)), {})
    notes: list = []
    got = lint(checked, notes, seconds=0.0)  # no time: the 4 guards and 3 invariants are skipped
    assert {d.code for d in got} == {"W103", "W104", "W105", "W106"}  # the syntactic ones still run
    assert len(notes) == 1 and notes[0].severity == "note"
    assert notes[0].message == ("7 z3 checks (W101/W102) not run: the lint's time budget of 0 s was used up")
    # with time, the same call finds the z3 warnings and notes nothing
    notes = []
    assert len(lint(checked, notes)) == 8 and notes == []


def test_many_checks_near_the_limit_stay_interactive(spec_file):
    # 20 invariants of ~14,000 instances each: about half a second each to build and
    # solve; the shared budget stops the lint after a few seconds with one note
    names = ["a0", "a1", "a2", "a3"]
    q = "".join(f"forall {v} in S: " for v in names) + "a0.x or a3.x"
    text = _nested(1, 7, "true") + "".join(f"invariant j{k}: {q}\n" for k in range(20))
    proc, seconds = _timed_check(spec_file(text))
    assert proc.returncode == 0, proc.stderr
    assert seconds < 20, seconds
    notes = [line for line in proc.stderr.splitlines() if ": note: " in line]
    assert len(notes) <= 2, proc.stderr  # the budget note (and maybe one z3 timeout)
    assert any("not run: the lint's time budget of 3 s was used up" in line for line in notes), proc.stderr
