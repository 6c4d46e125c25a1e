"""The CI share of tools/fuzz.py: mutated specs, random bytes and text, fuzzed command
lines and tampered replay traces must never make modelcheck crash.

For every input the exit code is 0, 1, 2 or 3, the output has no "internal error" and
no traceback, and the run ends within the time bound. The long run is
`python tools/fuzz.py --inputs 100000 --seed 1 --workers 2` (see that file); this is a
fixed-seed slice of the same generator and oracle, plus a few inputs run in a real
process to check that the in-process oracle matches what a user sees.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_fuzz():
    spec = importlib.util.spec_from_file_location("modelcheck_tools_fuzz", ROOT / "tools" / "fuzz.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look the module up by name
    spec.loader.exec_module(mod)
    return mod


fuzz = _load_fuzz()
SEED = 20240611
HANG_SECONDS = 20.0


@pytest.fixture(scope="module")
def corpus():
    return fuzz.load_corpus()


@pytest.fixture(scope="module")
def traces(corpus, tmp_path_factory):
    return fuzz.make_base_traces(corpus, tmp_path_factory.mktemp("fuzz-base"))


def _describe(findings) -> str:
    out = []
    for inp, o in findings:
        out.append(f"input {inp.index} ({inp.kind}: {inp.note[:120]})\n  {fuzz._cmdline(inp.argv)[:300]}\n"
                   f"  -> [{o.category}] exit {o.code}: {o.exc_type} {o.exc_msg[:200]}\n  key {o.key}\n"
                   f"  regenerate: python tools/fuzz.py --seed {SEED} --index {inp.index} --kinds {inp.kind}")
    return "\n".join(out)


def test_base_traces_exist(traces):
    # replay fuzzing needs at least one counterexample trace written by verify --trace-out
    assert traces, "no base trace could be produced for replay fuzzing"


# (kinds, number of inputs): a few hundred inputs over every kind, ~15-30 s in total.
SLICES = [
    ("spec-mutation", 160),
    ("random-bytes,random-text", 40),
    ("cli", 110),
    ("replay", 60),
]


@pytest.mark.parametrize("kinds,count", SLICES, ids=[s[0] for s in SLICES])
def test_fuzz_slice_has_no_findings(kinds, count, corpus, traces, tmp_path):
    kinds = tuple(kinds.split(","))
    findings, counts = fuzz.run_inputs_in_process(SEED, range(count), kinds=kinds, hang_seconds=HANG_SECONDS,
                                                  workdir=tmp_path, corpus=corpus, traces=traces)
    assert sum(counts.values()) == count
    assert not findings, f"{len(findings)} of {count} inputs broke the oracle:\n" + _describe(findings)


def test_generator_is_deterministic(corpus, traces):
    a = fuzz.Generator(SEED, corpus, traces)
    b = fuzz.Generator(SEED, corpus, traces)
    for i in range(60):
        x, y = a.make(i), b.make(i)
        assert (x.kind, x.argv, x.spec, x.trace) == (y.kind, y.argv, y.spec, y.trace)
    kinds = {a.make(i).kind for i in range(200)}
    assert kinds == set(fuzz.KINDS)


def test_oracle_catches_an_escaping_exception(tmp_path, monkeypatch):
    # the in-process runner must turn an exception into exit 70 and a finding, as cli.main() does
    import modelcheck.cli as cli_mod

    def boom(*a, **k):
        raise ZeroDivisionError("planted")

    monkeypatch.setattr(cli_mod, "_front_end", boom)
    o = fuzz.run_in_process(["check", str(ROOT / "specs" / "naive_failover.ha")], HANG_SECONDS)
    assert o.code == 70 and o.category == "internal-error" and o.exc_type == "ZeroDivisionError"
    assert "cli.py" in o.key


def test_oracle_catches_a_hang(monkeypatch):
    import modelcheck.cli as cli_mod

    def slow(*a, **k):  # busy: the bound is on CPU time
        while True:
            sum(range(1000))

    monkeypatch.setattr(cli_mod, "_front_end", slow)
    o = fuzz.run_in_process(["check", str(ROOT / "specs" / "naive_failover.ha")], 0.3)
    assert o.category == "hang"


# A handful of inputs through a real process: exit code and oracle must agree with the
# in-process run (timing-dependent exit 3 aside).
SUBPROCESS_INPUTS = [("spec-mutation", i) for i in (0, 1, 2, 3)] + [("cli", i) for i in (0, 1, 2)] + \
    [("replay", i) for i in (0, 1)] + [("random-bytes", 0), ("random-text", 0)]


@pytest.mark.parametrize("kind,index", SUBPROCESS_INPUTS, ids=[f"{k}-{i}" for k, i in SUBPROCESS_INPUTS])
def test_subprocess_agrees_with_in_process(kind, index, corpus, traces, tmp_path, monkeypatch):
    inp = fuzz.Generator(SEED, corpus, traces, (kind,)).make(index)
    monkeypatch.chdir(tmp_path)
    inproc = fuzz.run_in_process(fuzz.materialize(inp, tmp_path), HANG_SECONDS)
    real = fuzz.run_subprocess(inp, tmp_path, hang_seconds=120)
    where = f"{inp.note[:120]}\n{fuzz._cmdline(inp.argv)[:300]}\nstderr: {real.stderr[-800:]}"
    assert real.category is None, f"real process broke the oracle ({real.category}, exit {real.code}): {where}"
    assert inproc.category is None, f"in-process run broke the oracle ({inproc.key}): {where}"
    if 3 not in (real.code, inproc.code):
        assert real.code == inproc.code, where
