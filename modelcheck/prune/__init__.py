"""Reductions that save states: they remove behaviour that cannot change an invariant's
verdict, so the search visits fewer states (docs/language.md, "Pruning").

- partitions.py: without a time block, cut and heal steps only delay messages;
  a search that checks only invariants leaves those fault lines out.
- dead.py (with smt/dead.py): messages that z3 proves can never matter again are
  dropped from the state as soon as that is known.

Both are sound by an argument written in their module, both are on by default,
and each is turned off by its own option (`--keep-partitions`,
`--keep-dead-messages`) or wherever its argument does not hold: temporal
properties (fairness and `eventually heal` read deliveries and links), a `time`
block, `--prune` (sleep sets assume a step changes only what its footprint says),
queues (`delivery fifo`). `apply` decides for one search and returns the model to
search and a `Pruning` record of what was left out, which the reports print.
"""
from __future__ import annotations

from ..engine.result import Pruning
from ..faults import KINDS
from . import partitions

def apply(model, plan, options, deadline: float | None = None):
    """(the model to search, the Pruning record) for one search of `model`. At
    `deadline` (the run's --timeout, a time.monotonic() value) the z3 analysis of
    dead messages stops with limits.StopSearch("timeout")."""
    from ..engine.model import Model
    if not isinstance(model, Model):
        return model, None
    pruning = Pruning()
    lines = partitions.delay_lines(model.faults)
    if lines:
        why = partitions.why_kept(model, plan)
        if why is None and not options.skip_partitions:
            why = "--keep-partitions"
        if why is None:
            kept = [f for f in model.faults if f not in lines] + list(model.assumptions)
            pruning.skipped_faults = [KINDS[f.kind].summary(f) for f in lines]
            pruning.partitions_why = partitions.WHY
            written = (model.faults, model.assumptions)
            model = model.with_faults(kept)
            model.shown_faults = written
        else:
            pruning.partitions_kept = why
    why = why_no_collection(model, plan, options)
    if why is None:
        analysis = dead_analysis(model, deadline)
        if analysis.rules:
            from .dead import Collector
            model = model.with_collector(Collector(model, analysis.rules))
        else:
            pruning.dead_kept = analysis.why_none or "no message kind was proved dead (modelcheck check says why)"
    else:
        pruning.dead_kept = why
    return model, pruning


def finish(pruning, model) -> None:
    """After the search: the dead-message rules that dropped something."""
    if pruning is not None and getattr(model, "collector", None) is not None:
        pruning.dead_rules = model.collector.fired_rules()
        if not pruning.dead_rules:
            pruning.dead_kept = "no message the proved rules cover was ever dead"


def why_no_collection(model, plan, options) -> str | None:
    if not options.drop_dead_messages:
        return "--keep-dead-messages"
    if plan.graph:
        return "temporal properties are checked (fairness is about deliveries)"
    if plan.prune:
        return "--prune (sleep sets assume a step changes only what its footprint says)"
    if model.time is not None:
        return "the spec has a time block"
    if not model.network.collectable:
        return f"delivery {model.network.name} (a message holds back the ones behind it)"
    return None


def dead_analysis(model, deadline: float | None = None):
    """smt.dead.analyse(model), once per compiled spec and fault lines (`check`
    prints it too). One stopped at `deadline` raises and is not kept."""
    from ..smt.dead import analyse
    key = tuple((f.kind, f.role, f.budget) for f in model.faults)
    if key not in model.dead_analyses:  # shared by the model's copies (matrix rows)
        model.dead_analyses[key] = analyse(model, deadline=deadline)
    return model.dead_analyses[key]

