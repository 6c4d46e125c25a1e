"""Counterexamples in the Informal Trace Format (ITF) of Apalache and Quint.

Why: other tools (Quint, Apalache's trace viewers, the `itf` readers for Rust, Go
and Python) read ITF, and its values are typed (`#set`, `#tup`, `#map`, `#bigint`,
records, variants) where the modelcheck-result JSON flattens them to lists. The
mapping of a modelcheck state onto ITF variables is documented in
docs/json-format.md ("`--format itf`"); `ITF_VARS` is its single definition.

`render_itf` writes a result as ITF. `from_itf` reads one of our ITF traces back
into the modelcheck-result shape, so that `modelcheck replay` reads both formats
with one replay engine: ITF values decode to the JSON format's values exactly
(tested for every gallery trace), and the steps' identities travel in each
state's `#meta.step`.
"""
from __future__ import annotations

from ..engine.model import Model, State
from ..engine.result import Result
from ..lang.diagnostics import Source
from ..lang.types import BoolT, EnumT, MapT, NodeT, OptT, SeqT, SetT, TupleT
from ..lang.values import map_items, ordered
from .text import Describer, render_json

ITF_VERSION = 1
FORMAT_DESCRIPTION = "https://apalache-mc.org/docs/adr/015adr-trace.html"
# The ITF variables of every trace, in this order ("time" only with a time block).
ITF_VARS = ("nodes", "up", "in_flight", "cut_links", "ghosts", "budgets", "time")
# Integers beyond this are written {"#bigint": "..."} (JSON's safe range, RFC 7159).
SAFE_INT = 2 ** 53 - 1
UNIT = {"#tup": []}


class NotOurItf(Exception):
    """An ITF document that modelcheck did not write (replay needs its step names)."""


# ---- writing ------------------------------------------------------------------------

def itf_int(n: int):
    return n if -SAFE_INT <= n <= SAFE_INT else {"#bigint": str(n)}


class ItfValues:
    """Type-directed ITF values (the counterpart of Renderer.json)."""

    def __init__(self, d: Describer):
        self.d = d

    def value(self, v, t):
        if isinstance(t, OptT):
            return {"tag": "None", "value": UNIT} if v is None else {"tag": "Some", "value": self.value(v, t.inner)}
        if v is None:
            return {"tag": "None", "value": UNIT}
        if isinstance(t, BoolT) or isinstance(v, bool):
            return bool(v)
        if isinstance(t, EnumT):
            return t.members[v]
        if isinstance(t, NodeT):
            return self.d.node(v)
        if isinstance(t, SetT):
            return {"#set": [self.value(x, t.elem) for x in ordered(v)]}
        if isinstance(t, SeqT):
            return [self.value(x, t.elem) for x in v]
        if isinstance(t, MapT):
            return {"#map": [[self.value(k, t.key), self.value(x, t.value)] for k, x in map_items(v)]}
        if isinstance(t, TupleT):
            return {"#tup": [self.value(x, it) for x, it in zip(v, t.items)]}
        if isinstance(v, frozenset):
            return {"#set": [self.value(x, t) for x in ordered(v)]}
        if isinstance(v, tuple):
            return {"#tup": [self.value(x, t) for x in v]}
        return itf_int(v) if isinstance(v, int) else v

    def message(self, msg: tuple) -> dict:
        src, dst, kind, payload = msg[:4]
        info = self.d.messages[kind]
        out = {"kind": info.name, "from": self.d.node(src), "to": self.d.node(dst),
               "fields": {n: self.value(v, t) for (n, t), v in zip(info.fields, payload)}}
        if len(msg) > 4:
            out["age"] = itf_int(msg[4])
        return out

    def state(self, state: State, index: int) -> dict:
        d, c = self.d, self.d.model.checked
        nodes: dict = {r.name: {"#map": []} for r in c.roles}
        for n, role in enumerate(c.node_roles):
            nodes[role.name]["#map"].append(
                [d.node(n), {v.name: self.value(state.nodes[n][v.index], v.type) for v in role.vars}])
        msgs = [self.message(m) for m in d.model.network.messages(state.net)]
        out = {
            "#meta": {"index": index},
            "nodes": nodes,
            "up": {"#map": [[d.node(n), bool(u)] for n, u in enumerate(state.up)]},
            "in_flight": {"#set": msgs} if c.delivery == "set" else msgs,
            "cut_links": {"#set": [{"#tup": [d.node(a), d.node(b)]} for a, b in sorted(state.cut)]},
            "ghosts": {g.name: self.value(state.ghosts[g.index], g.type) for g in c.ghosts},
            "budgets": {d._fault_label(i): itf_int(state.budgets[slot])
                        for i, slot in sorted(d.model.budget_slot.items())},
        }
        if d.model.time is not None and state.time:
            now, offsets, paused = state.time
            out["time"] = {
                "now": itf_int(now),
                "clock_offsets": {"tag": "None", "value": UNIT} if offsets is None else
                {"tag": "Some", "value": {"#map": [[d.node(n), itf_int(o)] for n, o in enumerate(offsets)]}},
                "paused": {"#map": [[d.node(n), itf_int(p)] for n, p in enumerate(paused)]}}
        return out


def itf_vars(model: Model) -> list[str]:
    return [v for v in ITF_VARS if v != "time" or model.time is not None]


def render_itf(result: Result, model: Model, source: Source, options: dict) -> dict:
    """The ITF document of a `verify` (or `simulate`, `prove`) result: the trace's
    states, the step into each in its `#meta.step`, and the verdict, violation and
    options (replay needs them) under `#meta.modelcheck`. A result without a
    counterexample has no states."""
    from .. import __version__

    doc = render_json(result, model, source, options)
    d = Describer(model)
    vals = ItfValues(d)
    v = result.violation
    meta = {
        "format": "ITF",
        "format-description": FORMAT_DESCRIPTION,
        "source": source.path,
        "description": _description(result, model, __version__),
        "modelcheck": {
            "format": "modelcheck-itf", "version": ITF_VERSION,
            "spec": doc["spec"], "options": options,
            "invariants": doc["invariants"], "properties": doc["properties"], "faults": doc["faults"],
            "verdict": doc["verdict"], "stop_reason": doc["stop_reason"],
            "stats": {k: doc["stats"][k] for k in ("distinct_states", "transitions", "depth")},
            "violation": doc["violation"],
            "pruning": doc.get("pruning"),  # the reductions the run applied: replay applies the same
            "failed_step": None, "loop_step": None,
            "trigger": result.trigger if result.cycle is not None else None,
        },
    }
    out = {"#meta": meta, "vars": itf_vars(model), "states": []}
    if v is None:
        return out
    states = out["states"]
    states.append(vals.state(result.initial, 0))
    json_steps = doc["trace"]["steps"] + (doc["trace"].get("cycle") or [])
    steps = list(result.trace) + list(result.cycle or [])
    stem = len(result.trace)
    for i, ((step, state), rec) in enumerate(zip(steps, json_steps), 1):
        ident = {k: rec[k] for k in _STEP_FIELDS}
        if state is None:  # a run-time error: the step has no state after it
            meta["modelcheck"]["failed_step"] = {**ident, "error": rec["error"]}
            break
        if result.cycle and i == len(steps):  # closes the lasso: back to states[loop]
            meta["modelcheck"]["loop_step"] = ident
            break
        s = vals.state(state, len(states))
        s["#meta"]["step"] = ident
        states.append(s)
    if result.cycle is not None:
        out["loop"] = stem
    return out


# What a state's #meta.step records: the step's identity (modelcheck replay finds it
# again by these), its headline and spec line, and the messages it sent.
_STEP_FIELDS = ("index", "kind", "node", "name", "params", "chosen", "message", "detail", "text", "line", "sent")


def _description(result: Result, model: Model, version: str) -> str:
    v = result.violation
    what = {"holds": "no counterexample: every checked property holds",
            "incomplete": f"no counterexample found; the search stopped early ({result.stop_reason})"}
    if v is None:
        return f"modelcheck {version}, spec {model.checked.spec.name}: {what[result.verdict]}"
    n = len(result.trace)
    shape = f"{n} step{'s' if n != 1 else ''}"
    if result.cycle is not None:
        shape += f", then a {len(result.cycle)}-step cycle forever" if result.cycle else ", then stuck for ever"
    return f"modelcheck {version}, spec {model.checked.spec.name}: counterexample, {v.message} ({shape})"


# ---- reading ------------------------------------------------------------------------

def is_itf(doc) -> bool:
    return isinstance(doc, dict) and "states" in doc and "vars" in doc and "format" not in doc


def from_itf(doc: dict) -> dict:
    """An ITF trace written by modelcheck, as the modelcheck-result document that
    `modelcheck replay` reads. Raises NotOurItf (or KeyError, TypeError on a
    damaged file) when it cannot."""
    meta = doc.get("#meta")
    mc = meta.get("modelcheck") if isinstance(meta, dict) else None
    if not isinstance(mc, dict) or mc.get("format") != "modelcheck-itf":
        raise NotOurItf("an ITF trace that modelcheck did not write (no #meta.modelcheck): replay needs the "
                        "steps' names, which modelcheck records in each state's #meta.step")
    if mc.get("version") != ITF_VERSION:
        raise NotOurItf(f"unsupported modelcheck-itf version {mc.get('version')!r} (this modelcheck reads "
                        f"version {ITF_VERSION})")
    states = doc["states"]
    if not isinstance(states, list):
        raise TypeError("states is not a list")
    out = {"format": "modelcheck-result", "version": 1, "spec": mc.get("spec"), "options": mc.get("options"),
           "verdict": mc.get("verdict"), "violation": mc.get("violation"), "pruning": mc.get("pruning"),
           "trace": None}
    if not states:
        return out
    recs = []
    for i, s in enumerate(states[1:], 1):
        step = (s.get("#meta") or {}).get("step") if isinstance(s, dict) else None
        if not isinstance(step, dict):
            raise NotOurItf(f"state {i} has no #meta.step (the step that led to it)")
        recs.append({**step, "state": state_from_itf(s)})
    if isinstance(mc.get("failed_step"), dict):
        recs.append({**mc["failed_step"], "state": None})
    trace = {"initial": state_from_itf(states[0])}
    loop = doc.get("loop")
    if loop is None:
        trace["steps"] = recs
    else:
        if not isinstance(loop, int) or isinstance(loop, bool) or not 0 <= loop < len(states):
            raise NotOurItf(f"loop {loop!r} is not the index of a state")
        trace["steps"], trace["cycle"] = recs[:loop], recs[loop:]
        if isinstance(mc.get("loop_step"), dict):
            trace["cycle"].append({**mc["loop_step"], "state": state_from_itf(states[loop])})
        trace["trigger"] = mc.get("trigger")
    out["trace"] = trace
    return out


def state_from_itf(s: dict) -> dict:
    """An ITF state of ours in the JSON format's shape (docs/json-format.md, "A state")."""
    up = dict(decode(s["up"]))
    nodes = {}
    for _, members in s["nodes"].items():
        for name, vars_ in members["#map"]:
            nodes[name] = {"up": up[name], "vars": _record(vars_)}
    time = None
    if "time" in s:
        t = s["time"]
        offsets = decode(t["clock_offsets"])
        time = {"now": decode(t["now"]),
                "clock_offsets": None if offsets is None else dict(offsets),
                "paused": {n: p for n, p in decode(t["paused"]) if p}}
    msgs = s["in_flight"]["#set"] if isinstance(s["in_flight"], dict) else s["in_flight"]
    in_flight = [{**{k: decode(v) for k, v in m.items() if k != "fields"}, "fields": _record(m["fields"])}
                 for m in msgs]
    return {"nodes": nodes, "ghosts": _record(s["ghosts"]), "in_flight": in_flight,
            "cut_links": decode(s["cut_links"]), "budgets": _record(s["budgets"]), "time": time}


def _record(r: dict) -> dict:
    """A record of ours (a node's variables, a message's fields, the ghosts, the
    budgets): its fields decoded one by one (a record is never a value)."""
    if not isinstance(r, dict):
        raise TypeError(f"expected a record, found {type(r).__name__}")
    return {k: decode(v) for k, v in r.items()}


def decode(x):
    """An ITF value as the JSON format writes the same value: sets, tuples and
    lists as lists, maps as [key, value] pairs, None as null, Some(v) as v."""
    if isinstance(x, list):
        return [decode(y) for y in x]
    if not isinstance(x, dict):
        return x
    if "#bigint" in x:
        return int(x["#bigint"])
    if "#set" in x:
        return [decode(y) for y in x["#set"]]
    if "#tup" in x:
        return [decode(y) for y in x["#tup"]]
    if "#map" in x:
        return [[decode(k), decode(v)] for k, v in x["#map"]]
    if set(x) == {"tag", "value"}:  # an optional value (the spec's values include no records)
        return None if x["tag"] == "None" else decode(x["value"])
    raise TypeError(f"unexpected ITF value with keys {sorted(x)}")
