"""The history of client operations along a trace, for reports.

The state never holds the history (monitor.py says why); a trace does: each step
carries the operations it invoked or completed (Step.ops). This module lines them
up as operations with the steps that invoked and completed them, and replays the
register's monitor over them to find the operation whose completion made a check
fail: the one that cannot be ordered.
"""
from __future__ import annotations

from dataclasses import dataclass

from .monitor import CHECKS, KIND_NAMES, READ, WRITE


@dataclass
class Operation:
    register: str
    client: int  # node id
    kind: str  # write | read
    key: object  # None for a single register
    value: object  # written value, or the value a read returned (None while pending)
    invoked: int  # step number (1-based) of the invocation
    completed: int | None = None  # step number of the completion, None while pending
    blamed: list[str] | None = None  # the checks this operation's completion made fail


def operations(model, steps) -> list[Operation]:
    """Every operation of the trace `steps` (Step objects), in invocation order, with
    the operations whose invocation or completion made a consistency check fail marked."""
    monitors = model.compiler.monitors
    regs = model.checked.registers
    states = [m.initial() for m in monitors]
    ops: list[Operation] = []
    open_: dict = {}
    for number, step in enumerate(steps, 1):
        for what, r, client, kind, key, value in step.ops:
            m = monitors[r]
            before = [c for c in CHECKS if c in m.checks and m.holds(states[r], c)]
            if what == "invoke":
                # an invocation can fail a check too: a write that monotonic_writes or
                # writes_follow_reads must order in a cycle
                open_[(r, client)] = len(ops)
                op = Operation(regs[r].name, client, KIND_NAMES[kind], key,
                               value if kind == WRITE else None, number)
                ops.append(op)
                states[r] = m.invoke(states[r], client, kind, m.key_index(key), value)
            else:
                op = ops[open_.pop((r, client))]
                op.completed = number
                if kind == READ:
                    op.value = value
                states[r] = m.complete(states[r], client, kind, value)
            failed = [c for c in before if not m.holds(states[r], c)]
            if failed:
                op.blamed = failed
    return ops


def operation_call(model, op: Operation) -> str:
    """The operation and its result as a client sees it (`x.write(2) ok`, `x.read() -> 1`,
    `x.read() pending`): the one wording the text report and the HTML timeline share."""
    key = "" if op.key is None else model.render.text(op.key, _reg(model, op.register).key)
    t = _reg(model, op.register).value
    if op.kind == "write":
        call = f"{op.register}.write({key + ', ' if key else ''}{model.render.text(op.value, t)})"
        result = "ok" if op.completed else "pending"
    else:
        call = f"{op.register}.read({key})"
        result = f"-> {model.render.text(op.value, t)}" if op.completed else "pending"
    return f"{call} {result}"


def operation_text(model, op: Operation) -> str:
    who = model.checked.node_names[op.client]
    span = f"steps {op.invoked}-{op.completed}" if op.completed and op.completed != op.invoked else \
        f"step {op.invoked}" if op.completed else f"step {op.invoked}-"
    return f"{who}: {operation_call(model, op)}   [{span}]"


def history_lines(model, steps) -> list[str]:
    """The text report's history: one line per operation, and a bar per operation
    over the steps it spans (a timeline, Jepsen/Porcupine style)."""
    ops = operations(model, steps)
    if not ops:
        return []
    n = len(steps)
    out = ["History of client operations (|---| spans the steps from invocation to completion):"]
    for op in ops:
        end = op.completed if op.completed else n
        bar = " " * (op.invoked - 1) + ("|" + "-" * max(0, end - op.invoked - 1) + "|" if end > op.invoked else "|")
        if not op.completed:
            bar = bar[:-1] + ">"
        mark = f"   <- cannot be ordered ({', '.join(op.blamed)})" if op.blamed else ""
        out.append(f"  {bar:<{n + 1}}  {operation_text(model, op)}{mark}")
    return out


def history_json(model, steps) -> list[dict]:
    """The JSON report's history (docs/json-format.md)."""
    out = []
    for op in operations(model, steps):
        reg = _reg(model, op.register)
        out.append({"register": op.register, "client": model.checked.node_names[op.client], "op": op.kind,
                    "key": None if op.key is None else model.render.json(op.key, reg.key),
                    "value": None if op.value is None else model.render.json(op.value, reg.value),
                    "invoked": op.invoked, "completed": op.completed, "cannot_be_ordered": op.blamed or []})
    return out


def _reg(model, name: str):
    return next(r for r in model.checked.registers if r.name == name)
