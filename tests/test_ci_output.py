"""Output that suits CI logs and terminals: progress lines when stderr is not a
terminal, colour (--color, NO_COLOR), error codes shown as rustc does, one stderr
line per file written, and `replay` pointing at the guard or require that now
blocks a step, with a warning when the trace's consts differ from the spec's."""
from __future__ import annotations

from types import SimpleNamespace

from conftest import ROOT, run_cli, run_on_terminal

ESC = "\033["


def test_progress_off_a_terminal_is_a_plain_line_now_and_then(capsys):
    from modelcheck.cli import _ProgressLine
    line = _ProgressLine(terminal=False)
    for seconds in (1, 5, 9.9, 10.2, 15, 20.1, 59, 61, 100, 121.5, 180, 3600):
        line(SimpleNamespace(seconds=seconds, distinct_states=1000, depth=3, frontier=7))
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert "\r" not in err and ESC not in err
    assert [ln.split(" s:")[0] for ln in lines] == \
        ["progress: 10", "progress: 20", "progress: 59", "progress: 61", "progress: 122", "progress: 3,600"]
    assert lines[0] == "progress: 10 s: 1,000 distinct states, 98 states/s, depth 3, 7 waiting to be explored"


def test_error_codes_are_shown_as_rustc_does(spec_file):
    path = spec_file("spec t\nrole S[2] {\n  var a: bool = false\n  action t when not b { a = true }\n}\n")
    err = run_cli("check", str(path)).stderr
    assert f"{path}:4:21: error[E101]: unknown name 'b'" in err and ESC not in err


def _on_terminal(*args: str, env: dict | None = None) -> str:
    return run_on_terminal(*args, env=env).decode("utf-8", "replace")


def test_colour_follows_the_terminal_no_color_and_the_option(spec_file):
    env = {"NO_COLOR": "", "TERM": "xterm"}
    assert f"{ESC}1;31mVIOLATED" in _on_terminal("verify", "specs/naive_failover.ha", "-q", env=env)
    assert ESC not in _on_terminal("verify", "specs/naive_failover.ha", "-q", env={**env, "NO_COLOR": "1"})
    assert ESC not in _on_terminal("verify", "specs/naive_failover.ha", "-q", "--color=never", env=env)
    piped = run_cli("verify", "specs/naive_failover.ha", "-q")
    assert ESC not in piped.stdout + piped.stderr
    forced = run_cli("verify", "specs/naive_failover.ha", "-q", "--color", "always")
    assert f"{ESC}1;31mVIOLATED{ESC}0m" in forced.stdout and f"{ESC}1;31mviolated{ESC}0m" in forced.stdout
    bad = spec_file("spec t\nrole S[2] {\n  var a: bool = false\n  action t when not b { a = true }\n}\n")
    err = run_cli("check", str(bad), "--color=always").stderr
    assert f"{ESC}1;31merror[E101]{ESC}0m" in err


def test_files_written_are_named_on_stderr(tmp_path):
    html, trace = tmp_path / "r.html", tmp_path / "t.json"
    proc = run_cli("verify", "specs/naive_failover.ha", "-q", "--html", str(html), "--trace-out", str(trace))
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [f"modelcheck: wrote the JSON result to {trace}",
                                        f"modelcheck: wrote the HTML report to {html}"]


def _edited(tmp_path, old: str, new: str):
    text = (ROOT / "specs" / "naive_failover.ha").read_text()
    assert old in text
    path = tmp_path / "nf.ha"
    path.write_text(text.replace(old, new))
    return path


def test_replay_points_at_the_guard_that_now_fails_and_warns_about_consts(tmp_path):
    trace = tmp_path / "t.itf.json"
    assert run_cli("verify", "specs/naive_failover.ha", "-q", "--trace-out", str(trace)).returncode == 1
    spec = _edited(tmp_path, "action promote when not primary and silence == SILENCE {",
                   "action promote when not primary and silence > SILENCE {")
    spec.write_text(spec.read_text().replace("const SILENCE = 2 ", "const SILENCE = 3 "))
    proc = run_cli("replay", str(spec), str(trace))
    assert proc.returncode == 1
    out = proc.stdout
    assert ("warning: the trace was recorded with SILENCE=2 but the spec now declares SILENCE=3; replaying with "
            "the trace's value") in out
    assert "  3. Server[1] does promote   [line 50]   (recorded: no longer applies)" in out
    assert f"{spec}:50:23: diverges: the 'when' guard of action 'promote' is false for Server[1] in this state" in out
    lines = out.splitlines()
    caret = next(i for i, ln in enumerate(lines) if ln.startswith("   50 | "))
    assert lines[caret + 1].index("^") == lines[caret].index("not primary")
    with_const = run_cli("replay", str(spec), str(trace), "--const", "SILENCE=3")
    assert "warning: the trace was recorded with SILENCE=2; replaying with --const SILENCE=3" in with_const.stdout


def test_replay_points_at_the_require_that_now_fails(tmp_path):
    trace = tmp_path / "t.json"
    assert run_cli("verify", "specs/naive_failover.ha", "-q", "--trace-out", str(trace)).returncode == 1
    spec = _edited(tmp_path, "    primary = true\n", "    require silence > 5  primary = true\n")  # same lines
    proc = run_cli("replay", str(spec), str(trace))
    assert proc.returncode == 1
    assert f"{spec}:51:5: diverges: this fails for Server[1] in action 'promote', so the step is not enabled" \
        in proc.stdout
    assert "   51 |     require silence > 5  primary = true\n      |     ^~~~~~~~~~~~~~~~~~~" in proc.stdout
