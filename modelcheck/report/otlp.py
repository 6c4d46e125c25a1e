"""Counterexamples as OpenTelemetry traces (OTLP/JSON), for Jaeger and other tracing UIs.

Why: operators already read distributed behaviour in a tracing backend; a
counterexample loaded there shows each node's steps on its own lane, with the
messages between them as links, in a tool they know. The document is the OTLP/JSON
encoding of `TracesData` (resourceSpans -> scopeSpans -> spans), which collectors
(and Jaeger's OTLP receiver) accept on `/v1/traces`; the tests parse every
gallery trace with the `opentelemetry-proto` package's own classes.

Nothing here decides what a step is or what it changed: the steps are the JSON
result's (`render_json`: text, line, changes, messages), and which send a delivery
received is the sequence diagram's `match_messages` (report/diagram.py). This module
only lays them out as spans (docs/json-format.md, "`--format otlp`").

Deterministic: the trace id is a hash of the spec's text and the trace, span ids a
hash of the trace id and the step number, and time is synthetic (step i starts i
milliseconds after `EPOCH_NS` and lasts one millisecond): a run's real timings would
make two exports of the same counterexample differ, and say nothing about the system.
"""
from __future__ import annotations

import hashlib
import json

from ..engine.model import Model
from ..engine.result import Result
from ..lang.diagnostics import Source
from .diagram import cycle_deliveries, match_messages, trace_rows
from .text import Describer, render_json

# Synthetic clock: 2000-01-01T00:00:00Z (not 0: OTLP reads a zero timestamp as "unknown").
EPOCH_NS = 946_684_800 * 10 ** 9
STEP_NS = 10 ** 6  # one step: one millisecond
# OTLP/JSON writes enums as integers (the OTLP specification, "JSON Protobuf Encoding").
SPAN_KIND_INTERNAL = 1
STATUS_CODE_ERROR = 2
# Steps that belong to no node (partitions, heals, losses, duplicates, ticks, clocks).
NETWORK = "network"
# The service of the root span, the run itself.
CHECKER = "modelcheck"


def render_otlp(result: Result, model: Model, source: Source, options: dict) -> dict:
    """The OTLP/JSON TracesData of a result: a root span for the run, then one span
    per step (a liveness lasso: its stem, then one pass of its cycle), each under
    the resource of the node that took it. A result without a counterexample is
    the root span alone."""
    from .. import __version__

    doc = render_json(result, model, source, options)
    d = Describer(model)
    spec = model.checked.spec.name
    trace = doc["trace"] or {}
    recs = trace.get("steps", []) + (trace.get("cycle") or [])
    trace_id = hashlib.sha256(json.dumps({"source": source.text, "violation": doc["violation"], "trace": trace},
                                         sort_keys=True).encode()).hexdigest()[:32]

    def span_id(index: int) -> str:  # 0: the root span
        return hashlib.sha256(f"{trace_id}:{index}".encode()).hexdigest()[:16]

    def at(index: int) -> str:  # int64 as a string, as OTLP/JSON writes it
        return str(EPOCH_NS + index * STEP_NS)

    rows, _ = trace_rows(result)
    copies = match_messages(rows, model.checked.delivery)
    cycle_keys = cycle_deliveries(rows)
    stem = len(trace.get("steps", []))
    in_cycle = {r.index for r in rows if r.in_cycle}
    roles = {d.node(n): role.name for n, role in enumerate(model.checked.node_roles)}

    root_attrs = {"modelcheck.spec": spec, "modelcheck.file": source.path, "modelcheck.verdict": doc["verdict"],
                  "modelcheck.steps": len(recs)}
    v = doc["violation"]
    if v is not None:
        root_attrs["modelcheck.violation"] = f"{v['kind']} {v['name']}" if v["name"] else v["kind"]
    if result.cycle is not None:
        root_attrs["modelcheck.cycle.first_step"] = stem + 1
        root_attrs["modelcheck.cycle.steps"] = len(result.cycle)  # 0: stuck for ever in the last state
    root = _span(trace_id, span_id(0), None, f"{spec}: {doc['verdict']}", at(0), at(len(recs) + 1), root_attrs)

    spans: dict[str, list[dict]] = {}
    for rec in recs:
        i = rec["index"]
        node = rec["node"] or NETWORK
        attrs = {"modelcheck.step.index": i, "modelcheck.step.kind": rec["kind"], "modelcheck.node": node}
        if rec["node"] is not None:
            attrs["modelcheck.role"] = roles[rec["node"]]
        if rec["name"] is not None:
            attrs["modelcheck.step.name"] = rec["name"]
        if rec["line"] is not None:
            attrs["code.line.number"] = rec["line"]
        if i in in_cycle:
            attrs["modelcheck.step.in_cycle"] = True
        for key in ("params", "chosen"):
            for name, value in rec[key].items():
                attrs[f"modelcheck.{key}.{name}"] = _text(value)
        if rec["message"] is not None:
            attrs.update(_message_attrs(rec["message"]))
        if rec["detail"] is not None:
            attrs["modelcheck.detail"] = _text(rec["detail"])
        for change in rec["changes"]:
            attrs[f"modelcheck.change.{change['what']}"] = f"{change['from']} → {change['to']}"
        span = _span(trace_id, span_id(i), span_id(0), rec["text"], at(i), at(i + 1), attrs)
        # the sends this step made that never arrive (a delivered send is a link on its delivery)
        mine = [c for c in copies if c.row == i]
        sent = iter(rec["sent"])
        for c in mine:
            message = rec["message"] if c.duplicate else next(sent)
            if c.deliveries:
                continue
            if c.lost is not None and c.lost > 0:
                name, extra = "message lost", {"modelcheck.lost_at_step": c.lost}
            elif i in in_cycle and c.key in cycle_keys:
                name, extra = "message sent, delivered on the cycle's next pass", {}
            else:
                name, extra = "message sent, never delivered", {}
            span["events"].append({"timeUnixNano": at(i), "name": name,
                                   "attributes": _attributes({**_message_attrs(message), **extra})})
        if rec["kind"] == "deliver":
            sender = next((c.row for c in copies if i in c.deliveries), 0)
            span["links"].append({"traceId": trace_id, "spanId": span_id(sender),
                                  "attributes": _attributes({"modelcheck.link": "message sent",
                                                             "modelcheck.sent_at_step": sender,
                                                             **_message_attrs(rec["message"])})})
        spans.setdefault(node, []).append(span)

    if v is not None:
        last = spans[recs[-1]["node"] or NETWORK][-1] if recs else root
        explanation = ["  " * e["depth"] + e["text"] for e in v.get("explanation") or []]
        event = {"modelcheck.violation.kind": v["kind"], "modelcheck.violation.message": v["message"]}
        if v["name"]:
            event["modelcheck.violation.name"] = v["name"]
        if v["location"]:
            event["code.line.number"] = v["location"]["line"]
        if explanation:
            event["modelcheck.violation.explanation"] = explanation
        for s in {id(last): last, id(root): root}.values():
            s["status"] = {"code": STATUS_CODE_ERROR, "message": v["message"]}
        last["events"].append({"timeUnixNano": last["endTimeUnixNano"], "name": "violation",
                               "attributes": _attributes(event)})

    def resource(service: str, attrs: dict, resource_spans: list[dict]) -> dict:
        return {"resource": {"attributes": _attributes({"service.name": service, "service.namespace": spec, **attrs})},
                "scopeSpans": [{"scope": {"name": "modelcheck", "version": __version__}, "spans": resource_spans}]}

    out = [resource(CHECKER, {"service.version": __version__}, [root])]
    for node, role in roles.items():  # node order: the lanes in the order the spec declares them
        if node in spans:
            out.append(resource(node, {"modelcheck.role": role}, spans[node]))
    if NETWORK in spans:
        out.append(resource(NETWORK, {}, spans[NETWORK]))
    return {"resourceSpans": out}


def _span(trace_id: str, span_id: str, parent: str | None, name: str, start: str, end: str, attrs: dict) -> dict:
    span = {"traceId": trace_id, "spanId": span_id, **({"parentSpanId": parent} if parent else {}),
            "name": name, "kind": SPAN_KIND_INTERNAL, "startTimeUnixNano": start, "endTimeUnixNano": end,
            "attributes": _attributes(attrs), "events": [], "links": []}
    return span


def _message_attrs(m: dict) -> dict:
    out = {"modelcheck.message.kind": m["kind"], "modelcheck.message.from": m["from"],
           "modelcheck.message.to": m["to"], "modelcheck.message.fields": _text(m["fields"])}
    if "age" in m:
        out["modelcheck.message.age"] = m["age"]
    return out


def _text(value) -> str:
    """A JSON-format value (a message's fields, a parameter) as one attribute: its
    JSON text, since OTLP attribute values cannot nest maps in every backend."""
    return json.dumps(value, ensure_ascii=False)


def _attributes(attrs: dict) -> list[dict]:
    """OTLP KeyValues: bool, int (a string: int64 in OTLP/JSON), str, list of str."""
    out = []
    for key, value in attrs.items():
        if isinstance(value, bool):
            v = {"boolValue": value}
        elif isinstance(value, int):
            v = {"intValue": str(value)}
        elif isinstance(value, list):
            v = {"arrayValue": {"values": [{"stringValue": str(x)} for x in value]}}
        else:
            v = {"stringValue": str(value)}
        out.append({"key": key, "value": v})
    return out
