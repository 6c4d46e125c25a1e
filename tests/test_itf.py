"""`verify --format itf` and `--trace-out FILE.itf.json`: the Informal Trace Format
of Apalache and Quint (docs/json-format.md, "`--format itf`"): the variables,
typed values (#set, #tup, #map, #bigint, Option variants, records), lassos with
`loop`, a failing step in #meta; `replay` reads ITF back; Quint's own ITF reader
loads our traces (when npm can install it)."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from conftest import run_cli
from schema_check import errors, itf_rule_errors


def itf(*args: str) -> tuple[int, dict]:
    proc = run_cli("verify", *args, "--format", "itf")
    doc = json.loads(proc.stdout)
    assert errors(doc) == [] and itf_rule_errors(doc) == []
    return proc.returncode, doc


def test_an_invariant_counterexample():
    code, doc = itf("specs/naive_failover.ha")
    assert code == 1
    assert doc["vars"] == ["nodes", "up", "in_flight", "cut_links", "ghosts", "budgets"]
    meta = doc["#meta"]
    assert meta["format"] == "ITF" and meta["source"] == "specs/naive_failover.ha"
    assert meta["modelcheck"]["violation"]["name"] == "single_primary" and "loop" not in doc
    states = doc["states"]
    assert [s["#meta"]["index"] for s in states] == [0, 1, 2, 3]
    assert [s["#meta"]["step"]["text"] for s in states[1:]] == \
        ["Server[1] does detector_tick", "Server[1] does detector_tick", "Server[1] does promote"]
    last = states[-1]
    assert last["nodes"] == {"Server": {"#map": [["Server[0]", {"primary": True, "silence": 0}],
                                                 ["Server[1]", {"primary": True, "silence": 2}]]}}
    assert last["up"] == {"#map": [["Server[0]", True], ["Server[1]", True]]}
    assert last["in_flight"] == {"#set": []} and last["cut_links"] == {"#set": []}  # delivery set
    assert last["budgets"] == {"loss (line 58)": 1} and last["ghosts"] == {}


def test_typed_values_and_time():
    _, doc = itf("specs/lease_lock_broken.ha")
    assert doc["vars"][-1] == "time"
    last = doc["states"][-1]
    lock = dict(last["nodes"]["LockService"]["#map"])["LockService"]
    assert lock["holder"] == {"tag": "Some", "value": "Client[1]"}  # an optional node id
    assert isinstance(last["in_flight"], list)  # delivery unordered: a list, one entry per copy
    assert last["time"]["clock_offsets"]["tag"] == "Some" and "#map" in last["time"]["paused"]
    offsets = [s["time"]["clock_offsets"] for s in doc["states"]]
    assert offsets[0]["tag"] in ("None", "Some")  # None until the `clocks` step, if the spec has one


BIG = """spec big
role S[1] {
  var x: 0..9007199254740993 = 9007199254740993
  var seen: set<0..3> = {}
  var pair: (bool, 0..3) = (true, 2)
  var m: map<0..3, bool> = {}
  action a when x > 5 { x = x - 1  seen = seen | {1}  m[2] = true }
}
invariant small: forall s in S: s.x > 9007199254740991
"""


def test_bigint_set_tuple_map(spec_file):
    code, doc = itf(str(spec_file(BIG)))
    assert code == 1
    values = [dict(s["nodes"]["S"]["#map"])["S[0]"] for s in doc["states"]]
    assert values[0]["x"] == {"#bigint": "9007199254740993"}
    assert values[-1]["x"] == 9007199254740991  # back in the safe range: a JSON number
    assert values[0]["pair"] == {"#tup": [True, 2]}
    assert values[1]["seen"] == {"#set": [1]} and values[1]["m"] == {"#map": [[2, True]]}


def test_lassos_loop_and_round_trip(tmp_path):
    for spec, stuck in (("specs/stonith_mutual_broken.ha", False), ("specs/two_phase_commit_broken.ha", True)):
        out = tmp_path / "t.itf.json"
        proc = run_cli("verify", spec, "--trace-out", str(out), "-q")
        assert proc.returncode == 1
        doc = json.loads(out.read_text())
        plain = json.loads(run_cli("verify", spec, "--format", "json").stdout)["trace"]
        assert doc["loop"] == len(plain["steps"])
        # the step that closes the cycle goes back to states[loop]: it is in #meta, not a state
        assert len(doc["states"]) == 1 + len(plain["steps"]) + max(len(plain["cycle"]) - 1, 0)
        assert (doc["#meta"]["modelcheck"]["loop_step"] is None) == stuck
        assert run_cli("replay", spec, str(out)).returncode == 0


CRASHES = """spec crashes
role S[1] {
  var n: 0..2 = 0
  action up { n = n + 1 }
}
invariant fine: true
"""


def test_a_run_time_error_step_and_its_replay(spec_file, tmp_path):
    path = spec_file(CRASHES)
    out = tmp_path / "e.itf.json"
    assert run_cli("verify", str(path), "--trace-out", str(out)).returncode == 1
    doc = json.loads(out.read_text())
    assert errors(doc) == []
    failed = doc["#meta"]["modelcheck"]["failed_step"]
    assert failed["text"] == "S[0] does up" and "outside its type" in failed["error"]
    assert len(doc["states"]) == 3  # n = 0, 1, 2; the third `up` has no state after it
    replay = run_cli("replay", str(path), str(out))
    assert replay.returncode == 0 and "Reproduced" in replay.stdout


def test_holds_has_no_states():
    code, doc = itf("specs/async_failover_fixed.ha")
    assert code == 0 and doc["states"] == [] and doc["#meta"]["modelcheck"]["verdict"] == "holds"


def test_replay_refuses_foreign_or_damaged_itf(tmp_path):
    foreign = tmp_path / "quint.itf.json"
    foreign.write_text(json.dumps({"#meta": {"source": "x.qnt"}, "vars": ["x"],
                                   "states": [{"#meta": {"index": 0}, "x": {"#bigint": "1"}}]}))
    proc = run_cli("replay", "specs/naive_failover.ha", str(foreign))
    assert proc.returncode == 2 and "modelcheck did not write" in proc.stderr and "Traceback" not in proc.stderr
    _, doc = itf("specs/naive_failover.ha")
    del doc["states"][2]["nodes"]
    damaged = tmp_path / "d.itf.json"
    damaged.write_text(json.dumps(doc))
    proc = run_cli("replay", "specs/naive_failover.ha", str(damaged))
    assert proc.returncode == 2 and "malformed trace" in proc.stderr and "Traceback" not in proc.stderr


QUINT = "@informalsystems/quint@0.33.1"
LOAD = """
const fs = require('fs');
const itf = require('@informalsystems/quint/dist/src/itf');
const {expressionToString} = require('@informalsystems/quint/dist/src/ir/IRprinting');
const out = {};
for (const f of process.argv.slice(2)) {
  const trace = JSON.parse(fs.readFileSync(f, 'utf8'));
  out[f] = itf.ofItfNormalized(trace).map(expressionToString);
}
console.log(JSON.stringify(out));
"""


@pytest.fixture(scope="module")
def quint(tmp_path_factory):
    """Quint's npm package (its ITF reader, `ofItfNormalized`), installed for this run."""
    if not shutil.which("npm") or not shutil.which("node"):
        pytest.skip("node and npm are needed to load traces with Quint")
    where = tmp_path_factory.mktemp("quint")
    try:
        proc = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(where), QUINT],
                              capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        pytest.skip("npm install of Quint took over 5 minutes")
    if proc.returncode != 0:
        pytest.skip(f"npm could not install {QUINT}: {proc.stderr[-300:]}")
    (where / "load.js").write_text(LOAD)
    return where


def test_quint_loads_our_traces(quint, tmp_path):
    files = {}
    for spec in ("specs/naive_failover.ha", "specs/lease_lock_broken.ha", "specs/stonith_mutual_broken.ha"):
        out = tmp_path / (spec.split("/")[1].removesuffix(".ha") + ".itf.json")
        run_cli("verify", spec, "--trace-out", str(out), "-q")
        files[spec] = out
    proc = subprocess.run(["node", str(quint / "load.js"), *map(str, files.values())], capture_output=True, text=True,
                          cwd=quint, timeout=120)
    assert proc.returncode == 0, proc.stderr
    loaded = json.loads(proc.stdout)
    for spec, path in files.items():
        states = loaded[str(path)]
        assert len(states) == len(json.loads(path.read_text())["states"]) > 0
    naive = loaded[str(files["specs/naive_failover.ha"])]
    assert 'Tup("Server[1]", Rec("primary", true, "silence", 2))' in naive[-1]
    lease = loaded[str(files["specs/lease_lock_broken.ha"])]
    assert 'variant("Some", "Client[1]")' in lease[-1]
