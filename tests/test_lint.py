"""`modelcheck check` warnings (modelcheck/lint.py): each one at the right line,
no false alarms on expressions outside the z3 fragment, --strict."""
from __future__ import annotations

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
        if ": warning: " in line:
            loc = line.split(": warning: ")[0]
            out.append((line.split(": warning: ")[1], int(loc.split(":")[1])))
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
