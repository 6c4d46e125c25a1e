"""`modelcheck verify a.ha b.ha folder/` (modelcheck/batch.py): one line per spec,
a summary, and the worst exit code; a single spec keeps its full report."""
from __future__ import annotations

from conftest import ROOT, run_cli

SPLIT = """spec split
role Server[2] {
  var primary: bool = self == Server[0]
  action promote when not primary { primary = true }
}
invariant single: count(s in Server where s.primary) <= 1
"""
SAFE = SPLIT.replace("not primary", "false").replace("spec split", "spec safe")


def test_one_line_per_spec_and_the_worst_exit_code(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "split.ha").write_text(SPLIT)
    (tmp_path / "a" / "safe.ha").write_text(SAFE)
    p = run_cli("verify", str(tmp_path / "a"))
    lines = p.stdout.splitlines()
    assert lines[0].startswith(f"{tmp_path}/a/safe.ha: HOLDS · 1 distinct states")
    assert lines[1].startswith(f"{tmp_path}/a/split.ha: VIOLATED single (1 step) · 2 distinct states")
    assert lines[2] == "Summary: 2 specs · 1 hold · 1 violated · 0 incomplete · 0 errors"
    assert p.returncode == 1 and p.stderr == ""
    (tmp_path / "bad.ha").write_text(SPLIT.replace("not primary", "not primry"))
    p = run_cli("verify", str(tmp_path / "a" / "safe.ha"), str(tmp_path / "bad.ha"), "--max-depth", "0",
                str(tmp_path / "a" / "split.ha"))
    lines = p.stdout.splitlines()
    assert lines[1] == f"{tmp_path}/bad.ha: ERROR E101 at 4:27: unknown name 'primry' (did you mean 'primary'?)"
    assert "INCOMPLETE (max-depth)" in lines[2] and lines[3].endswith("1 incomplete · 1 error")
    assert p.returncode == 2 and "bad.ha:4:27: error" in p.stderr and "^~~~~~" in p.stderr


def test_a_folder_of_examples():
    p = run_cli("verify", str(ROOT / "specs" / "naive_failover.ha"), str(ROOT / "specs" / "stonith_mutual_broken.ha"))
    assert p.returncode == 1
    assert "stonith_mutual_broken.ha: VIOLATED someone_active (12 steps, then a cycle of 6) · " in p.stdout


def test_single_spec_options_are_refused_with_several(tmp_path):
    (tmp_path / "x.ha").write_text(SPLIT)
    for args in (["--format", "itf"], ["--format", "mermaid"], ["--trace-out", str(tmp_path / "t.json")],
                 ["--html", str(tmp_path / "t.html")]):
        p = run_cli("verify", str(tmp_path / "x.ha"), str(tmp_path / "x.ha"), *args)
        assert p.returncode == 2 and "takes a single spec" in p.stderr and "Traceback" not in p.stderr
    p = run_cli("verify", str(tmp_path / "x.ha"), str(tmp_path / "x.ha"), "--scenario", "s", "--no-faults")
    assert p.returncode == 2 and "cannot be used together" in p.stderr
    (tmp_path / "empty").mkdir()
    p = run_cli("verify", str(tmp_path / "empty"))
    assert p.returncode == 2 and "holds no .ha file" in p.stderr


def test_a_single_spec_keeps_its_report():
    p = run_cli("verify", str(ROOT / "specs" / "naive_failover.ha"))
    assert p.returncode == 1 and "Counterexample: invariant 'single_primary' is violated after 3 steps." in p.stdout
    assert "Summary:" not in p.stdout


def test_json_for_several_specs_is_one_document(tmp_path):
    """--format json: each spec's own `verify --format json` document, in order, and
    the summary's counts with the exit code; valid against batch-v1.schema.json."""
    import json

    from schema_check import errors

    (tmp_path / "split.ha").write_text(SPLIT)
    (tmp_path / "bad.ha").write_text(SPLIT.replace("not primary", "not primry"))
    (tmp_path / "safe.ha").write_text(SAFE)
    names = [str(tmp_path / n) for n in ("split.ha", "bad.ha", "safe.ha")]
    p = run_cli("verify", *names, "--format", "json")
    assert p.returncode == 2 and "bad.ha:4:27: error" in p.stderr
    doc = json.loads(p.stdout)
    assert errors(doc) == []
    assert doc["format"] == "modelcheck-batch" and doc["version"] == 1
    assert [r["verdict"] for r in doc["results"]] == ["violated", "error", "holds"]
    assert doc["summary"] == {"specs": 3, "holds": 1, "violated": 1, "incomplete": 0, "error": 1, "not_run": 0,
                              "exit_code": 2}
    for name, result in zip(names, doc["results"]):  # exactly what the spec alone prints
        alone = json.loads(run_cli("verify", name, "--format", "json").stdout)
        for d in (alone, result):
            d.get("stats", {}).pop("seconds", None)
            d.get("stats", {}).pop("states_per_second", None)
        assert result == alone
    p = run_cli("verify", names[0], names[2], "--format", "json")
    assert p.returncode == 1 and json.loads(p.stdout)["summary"]["exit_code"] == 1
    damaged = json.loads(p.stdout)
    del damaged["summary"]["not_run"]
    assert errors(damaged) != []
