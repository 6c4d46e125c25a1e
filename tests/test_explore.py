"""`modelcheck explore`: the JSON API over HTTP (no browser), the command line
(addresses, ports, --trace, Ctrl-C), and the round trip of a path built by hand
through `modelcheck replay`. The page itself is tested in Chromium by
test_explore_browser.py."""
from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from conftest import ROOT, run_cli
from modelcheck import api
from modelcheck.explore.server import make_server
from modelcheck.explore.session import Session

NAIVE = ROOT / "specs/naive_failover.ha"  # 3 steps: detector_tick, detector_tick, promote
BROKEN = ROOT / "specs/stonith_unconfirmed_broken.ha"


@pytest.fixture(scope="module")
def server():
    """An explorer of naive_failover.ha in this process: (base URL, session)."""
    session = Session.open(api.load(NAIVE))
    srv = make_server(session, "127.0.0.1", 0, explicit_host=False)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/", session
    srv.shutdown()
    srv.server_close()


def get(url: str, headers: dict | None = None, data: bytes | None = None) -> tuple[int, object]:
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            body = r.read().decode()
            return r.status, json.loads(body) if "json" in r.headers.get("Content-Type", "") else body
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read().decode())


def counterexample_path(session: Session, spec) -> list[int]:
    v = api.verify(spec)
    path, why = session.path_of_result(v.result, v.model)
    assert why is None
    return path


def test_the_enabled_steps_are_verify_s_labels_and_lines(server):
    base, session = server
    status, view = get(base + "api/state?path=")
    assert status == 200 and view["at"] == 0 and view["steps"] == []
    assert [e["label"] for e in view["enabled"]] == [
        "Server[0] does heartbeat", "Server[1] does detector_tick", "fault: network partition {Server[0]} | {Server[1]}"]
    assert all(isinstance(e["line"], int) for e in view["enabled"])
    assert view["invariants"] == [{"name": "single_primary", "line": 61, "holds": True, "error": None}]
    nodes = {n["name"]: {v["name"]: v["value"] for v in n["vars"]} for n in view["state"]["nodes"]}
    assert nodes == {"Server[0]": {"primary": "true", "silence": "0"}, "Server[1]": {"primary": "false", "silence": "0"}}
    assert view["state"]["budgets"] == [{"line": "partition (line 56)", "left": 1}, {"line": "loss (line 58)", "left": 1}]


def test_the_invariant_turns_false_at_verify_s_last_step(server):
    base, session = server
    path = counterexample_path(session, api.load(NAIVE))
    text = api.verify(api.load(NAIVE)).text()
    holds = []
    for k in range(len(path) + 1):
        status, view = get(base + f"api/state?path={'.'.join(map(str, path))}&at={k}")
        assert status == 200
        holds.append(view["invariants"][0]["holds"])
        if k:
            assert f"{k}. {view['steps'][k - 1]['label']}" in text  # the text report's numbered step
    assert holds == [True] * len(path) + [False]
    changed = [v["name"] for n in view["state"]["nodes"] for v in n["vars"] if v["changed"]]
    assert changed == ["primary"]


def test_bad_paths_are_refused_with_a_reason(server):
    base, _ = server
    assert get(base + "api/state?path=99") == (400, {"error": "step 1 of the path is choice 99, but only 3 steps "
                                                              "are enabled there"})
    status, body = get(base + "api/state?path=1.x")
    assert status == 400 and "step numbers separated by dots" in body["error"]
    status, body = get(base + "api/state?path=1.1&at=5")
    assert status == 400 and "outside the path" in body["error"]
    assert get(base + "api/nothing")[0] == 404


def test_a_non_loopback_host_is_refused_without_host():
    session = Session.open(api.load(NAIVE))
    for explicit, expected in ((False, 403), (True, 200)):
        srv = make_server(session, "127.0.0.1", 0, explicit_host=explicit)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        try:
            port = srv.server_address[1]
            status, body = get(f"http://127.0.0.1:{port}/api/info", {"Host": f"attacker.example:{port}"})
            assert status == expected
            if not explicit:
                assert "not a loopback address" in body["error"] and "--host" in body["error"]
            assert get(f"http://127.0.0.1:{port}/api/info", {"Host": f"localhost:{port}"})[0] == 200
        finally:
            srv.shutdown()
            srv.server_close()


def test_expressions_evaluate_in_the_state_and_errors_are_diagnostics(server):
    base, _ = server
    status, r = get(base + "api/eval?path=1.1.1&expr=" + urllib.request.quote("count(s in Server where s.primary)"))
    assert status == 200 and r["ok"] and (r["value"], r["type"]) == ("2", "int")
    assert "counted: Server[0], Server[1]" in r["explanation"][0]["text"]
    status, r = get(base + "api/eval?path=1.1&invariant=single_primary")
    assert r["ok"] and r["value"] == "true"
    status, r = get(base + "api/eval?path=&expr=" + urllib.request.quote("forall s in Server: s.primry"))
    assert status == 200 and not r["ok"]
    assert r["diagnostics"].startswith("<expression>:1:23: error[E101]: ")
    assert "| forall s in Server: s.primry\n" in r["diagnostics"] and "^~~~~~" in r["diagnostics"]
    assert "hint" in r["diagnostics"] or "did you mean" in r["diagnostics"]
    # only the spec language: anything else is a syntax error, never run
    status, r = get(base + "api/eval?path=&expr=" + urllib.request.quote("__import__('os').system('true')"))
    assert not r["ok"] and "error[" in r["diagnostics"]
    status, r = get(base + "api/eval?path=&expr=" + urllib.request.quote("true; role X { }"))
    assert not r["ok"] and "more than one expression" in r["diagnostics"]


def test_an_exported_path_replays(server, tmp_path):
    base, session = server
    path = ".".join(map(str, counterexample_path(session, api.load(NAIVE))))
    status, doc = get(base + f"api/export?path={path}")
    assert status == 200 and doc["verdict"] == "violated" and doc["violation"]["name"] == "single_primary"
    trace = tmp_path / "path.json"
    trace.write_text(json.dumps(doc))
    proc = run_cli("replay", str(NAIVE), str(trace))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Reproduced: invariant 'single_primary' is violated after step 3" in proc.stdout
    status, body = get(base + "api/export?path=1")  # breaks nothing yet
    assert status == 400 and "breaks no invariant" in body["error"]


def test_a_hand_built_branch_through_faults_replays(tmp_path):
    """Partition first, then the detector: a path verify never prints, replayed."""
    session = Session.open(api.load(NAIVE))
    labels = ["fault: network partition {Server[0]} | {Server[1]}", "Server[0] does heartbeat",
              "Server[1] does detector_tick", "Server[1] does detector_tick", "Server[1] does promote"]
    path: list[int] = []
    for label in labels:
        enabled = session.view(path)["enabled"]
        path.append(next(e["index"] for e in enabled if e["label"] == label))
    trace = tmp_path / "branch.json"
    trace.write_text(json.dumps(session.export(path)))
    proc = run_cli("replay", str(NAIVE), str(trace))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_diagram_is_the_report_s(server):
    base, session = server
    status, page = get(base + "api/diagram?path=1.1.1")
    assert status == 200 and '<svg class="seq"' in page and "VIOLATED: invariant single_primary" in page
    status, page = get(base + "api/diagram?path=1")  # breaks nothing: the path, no banner
    assert status == 200 and '<svg class="seq"' in page and "VIOLATED:" not in page and "1. detector_tick" in page


def test_verify_from_the_page_jumps_to_its_counterexample(server):
    base, session = server
    status, body = get(base + "api/verify", data=b'{"timeout": 5}')  # not JSON: refused
    assert status == 415
    status, run = get(base + "api/verify", {"Content-Type": "application/json"}, b'{"timeout": 20}')
    assert status == 202 and run["running"] in (True, False)
    deadline = time.monotonic() + 60
    while run["running"] and time.monotonic() < deadline:
        time.sleep(0.2)
        run = get(base + "api/verify")[1]
    assert run["verdict"] == "violated" and run["summary"].startswith("Result: VIOLATED")
    assert run["path"] == counterexample_path(session, api.load(NAIVE))


# ---- the command line ----

def start(*args: str) -> tuple[subprocess.Popen, str]:
    """`modelcheck explore ARGS --no-browser` on a free port: the process and its URL."""
    proc = subprocess.Popen([sys.executable, "-m", "modelcheck", "explore", *args, "--port", "0", "--no-browser"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert " at http://127.0.0.1:" in line, line + proc.stderr.read()
    return proc, line.rsplit(" at ", 1)[1].strip()


def stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize("suffix", [".json", ".itf.json"])
def test_trace_loads_a_counterexample_as_the_path(tmp_path, suffix):
    trace = tmp_path / f"t{suffix}"
    assert run_cli("verify", str(BROKEN), "--trace-out", str(trace), "-q").returncode == 1
    proc, url = start(str(BROKEN), "--trace", str(trace))
    try:
        info = get(url + "api/info")[1]
        path = info["trace"]["path"]
        assert info["trace"]["note"] is None and len(path) == 4
        view = get(url + f"api/state?path={'.'.join(map(str, path))}")[1]
        assert [i["holds"] for i in view["invariants"] if i["name"] == "single_active"] == [False]
    finally:
        assert "stopped" in stop(proc)


def test_ctrl_c_stops_the_server_cleanly():
    proc, url = start(str(NAIVE))
    assert get(url + "api/info")[0] == 200
    stop(proc)


def test_user_errors_exit_2_with_a_hint(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        proc = run_cli("explore", str(NAIVE), "--port", str(port), "--no-browser")
    assert proc.returncode == 2 and f"cannot serve on 127.0.0.1:{port}" in proc.stderr and "hint: " in proc.stderr
    proc = run_cli("explore", str(NAIVE), "--host", "no-such-host.invalid", "--port", "0", "--no-browser")
    assert proc.returncode == 2 and "hint: give an address of this machine" in proc.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "nope"}')
    proc = run_cli("explore", str(NAIVE), "--trace", str(bad), "--no-browser")
    assert proc.returncode == 2 and "malformed trace" in proc.stderr
    spec = tmp_path / "s.ha"
    spec.write_text(NAIVE.read_text().replace("invariant single_primary:", "invariant single_primary: leadr and"))
    proc = run_cli("explore", str(spec), "--no-browser")
    assert proc.returncode == 2 and f"{spec}:61:" in proc.stderr and "^" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_page_ships_as_package_data():
    """`pip install .` copies modelcheck/explore/static/ only through package-data."""
    import fnmatch
    text = (ROOT / "pyproject.toml").read_text()
    line = next(x for x in text.splitlines() if x.startswith('"modelcheck.explore.static" = '))
    patterns = json.loads(line.split("=", 1)[1])
    for f in (ROOT / "modelcheck/explore/static").iterdir():
        assert any(fnmatch.fnmatch(f.name, p) for p in patterns), f"{f.name} is not in package-data"
    assert '"modelcheck.explore.static"' in text.split("packages = [", 1)[1].split("]", 1)[0]
