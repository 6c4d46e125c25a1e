"""The codegen read-set contract: codegen records which global reads each generated
function makes (CodeGen.source_reads), at the places it emits them, and
Model._reads_global asks for that to decide whether memoising a handler's outcomes
is sound.

It replaced a search of the generated text for the spellings of such reads. That
search stays here as the oracle: on every spec of the repository (and a few inline
ones for clocks and liveness), a function is recorded as reading something exactly
when its text contains such a read, and the role-level answer is the same as the
text search gave.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ROOT, pipeline

from modelcheck.engine.codegen import GLOBAL_READS

# How generated code spells each global read (codegen.py): `n.var` on a node of a
# known role is c.nodes[..], on a node of any role _gen.dynamic_field(..).
SPELLINGS = {"nodes": ("c.nodes", "dynamic_field"), "up": ("c.up",), "clock": ("c.clock",), "now": ("c.now",)}

SPECS = sorted(p for d in ("specs", "tests/models") for p in (ROOT / d).rglob("*.ha"))

TIMED = """spec timed
time { max 3 }
role S[2] {
  var until: 0..3 = 0
  var seen: bool = false
  var peer: node = self
  action renew when clock < 3 { until = clock }
  action own { until = 0 }
}
invariant bounded: now <= 3 and forall s in S: s.until <= now
invariant peers: forall s in S: s.peer.seen == S[1].seen or crashed(s)
faults { crash at most 1 }
"""


def _text_reads(src: str) -> set[str]:
    return {what for what, spellings in SPELLINGS.items() if any(s in src for s in spellings)}


def _old_reads_global(model, mark: int) -> bool:
    """Model._reads_global as it was: a search of the generated text."""
    return any(tok in src for src in model.compiler.codegen.sources[mark:]
               for tok in ("c.nodes", "c.up", "c.clock", "c.now", "dynamic_field"))


def _check(model) -> None:
    cg = model.compiler.codegen
    assert len(cg.source_reads) == len(cg.sources)
    for src, reads in zip(cg.sources, cg.source_reads):
        assert reads <= set(GLOBAL_READS)
        assert set(reads) == _text_reads(src), src


def _role_answers_by_text(model) -> dict[str, bool]:
    """Per role, whether a handler's or action's guard or body reads globally, by the
    text search."""
    comp = model.compiler
    out = {}
    for r in model.checked.roles:
        reads = False
        for h in list(r.decl.handlers) + list(r.decl.actions):
            # compiled again (as Model._compile_roles does) to know where its code starts
            mark = len(comp.codegen.sources)
            if h.guard is not None:
                comp.expr(h.guard)
            comp.block(h.body)
            reads = reads or _old_reads_global(model, mark)
        out[r.name] = reads
    return out


@pytest.mark.parametrize("path", SPECS, ids=lambda p: str(p.relative_to(ROOT)))
def test_recorded_reads_match_generated_text(path: Path):
    model = pipeline(path.read_text(), path=str(path))
    _check(model)
    assert model._role_reads_global == _role_answers_by_text(model)


def test_every_kind_of_read_is_recorded():
    model = pipeline(TIMED)
    _check(model)
    seen = set().union(*model.compiler.codegen.source_reads)
    assert seen == set(GLOBAL_READS)
    assert model._role_reads_global == {"S": True} == _role_answers_by_text(model)


def test_a_role_reading_only_its_node_is_memoised_on_its_node_alone():
    model = pipeline("""spec local
message Ping(v: 0..3)
role S[2] {
  var x: 0..3 = 0
  action bump when x < 3 and self != S[1] { x += 1; send Ping(x) to S[1] }
  on Ping(v) from p { x = v }
}
""")
    _check(model)
    assert model._role_reads_global == {"S": False}
