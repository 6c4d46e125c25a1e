"""The command line: exit codes, options, output formats, error rendering."""
from __future__ import annotations

import json

from conftest import ROOT, run_cli, run_on_terminal, run_until_signal, verify_json

SPLIT = """spec split
role Server[2] {
  var primary: bool = self == Server[0]
  action promote when not primary { primary = true }
}
invariant single: count(s in Server where s.primary) <= 1
"""

COUNTER = """spec counter
const MAX = 3
role C { var n: 0..MAX = 0
  action inc when n < MAX { n += 1 } }
invariant small: C.n <= 2
invariant bounded: C.n <= MAX
"""


def test_exit_0_when_invariants_hold(spec_file):
    p = run_cli("verify", str(spec_file(COUNTER)), "--invariant", "bounded")
    assert p.returncode == 0, p.stderr
    assert "Result: HOLDS · 4 distinct states · 3 transitions · depth 3" in p.stdout


def test_exit_1_with_trace(spec_file):
    p = run_cli("verify", str(spec_file(SPLIT)))
    assert p.returncode == 1
    assert "Counterexample: invariant 'single' is violated after 1 step." in p.stdout
    assert "Server[1].primary: false -> true" in p.stdout
    assert "counted: Server[0], Server[1]" in p.stdout
    assert p.stdout.rstrip().splitlines()[-1].startswith("Result: VIOLATED")


def test_exit_2_on_spec_error_with_position(spec_file):
    p = run_cli("verify", str(spec_file(SPLIT.replace("not primary", "not primry"))))
    assert p.returncode == 2
    assert ":4:27: error[E101]: unknown name 'primry' (did you mean 'primary'?)" in p.stderr
    assert "Traceback" not in p.stderr


def test_exit_2_on_missing_file():
    p = run_cli("verify", "no/such/spec.ha")
    assert p.returncode == 2 and "no such spec file: no/such/spec.ha" in p.stderr


def test_exit_2_on_bad_options(spec_file):
    path = str(spec_file(COUNTER))
    for args in (["--const", "MAX"], ["--const", "MAX=x"], ["--const", "NOPE=1"], ["--max-states", "-1"],
                 ["--format", "xml"], ["--invariant", "nope"], ["--bogus"]):
        p = run_cli("verify", path, *args)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        assert "Traceback" not in p.stderr


def test_unknown_invariant_suggests(spec_file):
    p = run_cli("verify", str(spec_file(COUNTER)), "--invariant", "smal")
    assert p.returncode == 2 and "did you mean 'small'?" in p.stderr


def test_exit_3_on_bounds(spec_file):
    path = str(spec_file(COUNTER))
    p = run_cli("verify", path, "--invariant", "bounded", "--max-states", "2")
    assert p.returncode == 3 and "INCOMPLETE (max-states)" in p.stdout
    p = run_cli("verify", path, "--invariant", "bounded", "--max-depth", "1")
    assert p.returncode == 3 and "INCOMPLETE (max-depth)" in p.stdout


def test_const_override_changes_the_verdict(spec_file):
    path = str(spec_file(COUNTER))
    assert run_cli("verify", path, "--invariant", "small").returncode == 1
    assert run_cli("verify", path, "--invariant", "small", "--const", "MAX=2").returncode == 0


def test_no_faults(spec_file):
    path = str(spec_file("""spec f
role S[2] { var x: bool = false }
faults { crash at most 1 }
invariant up: forall s in S: not crashed(s)
"""))
    assert run_cli("verify", path).returncode == 1
    assert run_cli("verify", path, "--no-faults").returncode == 0


def test_json_format_and_trace_out(spec_file, tmp_path):
    out = tmp_path / "trace.json"
    code, doc = verify_json(spec_file(SPLIT), "--trace-out", str(out))
    assert code == 1
    assert doc["format"] == "modelcheck-result" and doc["version"] == 1
    assert doc["verdict"] == "violated"
    assert doc["violation"]["kind"] == "invariant" and doc["violation"]["name"] == "single"
    step = doc["trace"]["steps"][0]
    assert step["kind"] == "action" and step["node"] == "Server[1]" and step["name"] == "promote"
    assert step["changes"] == [{"what": "Server[1].primary", "from": "false", "to": "true"}]
    assert step["state"]["nodes"]["Server[1]"]["vars"]["primary"] is True
    assert json.loads(out.read_text()) == doc


def test_json_for_spec_errors(spec_file):
    p = run_cli("verify", str(spec_file("spec x\nrole R { var v: bool = 3 }")), "--format", "json")
    assert p.returncode == 2
    doc = json.loads(p.stdout)
    assert doc["verdict"] == "error" and doc["diagnostics"][0]["line"] == 2


def test_check_command(spec_file):
    p = run_cli("check", str(spec_file(SPLIT)))
    assert p.returncode == 0 and "ok" in p.stdout
    p = run_cli("check", str(spec_file(SPLIT.replace("bool", "boool"))))
    assert p.returncode == 2 and "unknown type 'boool' (did you mean 'bool'?)" in p.stderr


def test_quiet_keeps_trace_and_summary(spec_file):
    p = run_cli("verify", str(spec_file(SPLIT)), "--quiet")
    assert p.stdout.startswith("Counterexample")
    p = run_cli("verify", str(spec_file(COUNTER)), "--invariant", "bounded", "-q")
    assert p.stdout.startswith("Result: HOLDS")


def test_output_is_deterministic_across_hash_seeds():
    import os
    import subprocess
    import sys

    def run(seed: str) -> subprocess.CompletedProcess:
        env = dict(os.environ, PYTHONHASHSEED=seed)
        spec = "tests/regression/async_kv.ha"
        return subprocess.run([sys.executable, "-m", "modelcheck", "verify", spec, "--format", "json"],
                              cwd=ROOT, capture_output=True, text=True, env=env)
    a, b = run("1"), run("2")
    da, db = json.loads(a.stdout), json.loads(b.stdout)
    for d in (da, db):
        d["stats"].pop("seconds")
        d["stats"].pop("states_per_second")
    assert da == db


def test_runs_from_any_directory(tmp_path):
    p = run_cli("verify", str(ROOT / "specs" / "naive_failover.ha"), cwd=tmp_path)
    assert p.returncode == 1


BIG = """spec big
role S[4] { var x: 0..40 = 0
  action inc when x < 40 { x += 1 }
  action dec when x > 0 { x -= 1 } }
invariant ok: true
"""


def test_timeout_stops_with_summary(spec_file):
    p = run_cli("verify", str(spec_file(BIG)), "--timeout", "0.5")
    assert p.returncode == 3
    assert "Incomplete: the --timeout ran out" in p.stdout
    assert "Result: INCOMPLETE (timeout)" in p.stdout


def test_ctrl_c_prints_the_summary(spec_file):
    import signal
    import time

    proc, out, err = run_until_signal(["verify", str(spec_file(BIG))], signal.SIGINT, lambda _: time.sleep(2.0))
    assert proc.returncode == 3, err
    assert "interrupted (Ctrl-C)" in out and "Result: INCOMPLETE (interrupted)" in out
    assert "Traceback" not in err


def test_progress_on_a_terminal_only(spec_file):
    path = str(spec_file(BIG))
    out = run_on_terminal("verify", path, "--max-states", "30000")
    assert b"states/s \xc2\xb7 depth" in out and b"frontier" in out
    assert run_on_terminal("verify", path, "--max-states", "30000", "--quiet").count(b"frontier") == 0
    piped = run_cli("verify", path, "--max-states", "30000")
    assert "frontier" not in piped.stderr and "frontier" not in piped.stdout


def test_html_report_written_next_to_text_output(tmp_path):
    out = tmp_path / "report.html"
    p = run_cli("verify", "specs/naive_failover.ha", "--html", str(out), "-q")
    assert p.returncode == 1
    assert "Counterexample" in p.stdout
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "single_primary" in page and "<svg" in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")


def test_unwritable_output_file_is_a_usage_error(tmp_path):
    p = run_cli("verify", "specs/naive_failover.ha", "--html", str(tmp_path / "missing" / "r.html"))
    assert p.returncode == 2
    # checked before exploring: nothing is printed on stdout, the folder is named
    assert "cannot be written" in p.stderr and "does not exist" in p.stderr and "Traceback" not in p.stderr
    assert p.stdout == ""
