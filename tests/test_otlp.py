"""`verify --format otlp` and `--trace-out FILE.otlp.json`: a counterexample as an
OpenTelemetry trace (docs/json-format.md, "`--format otlp`"). Every gallery trace
parses as OTLP `TracesData` with the opentelemetry-proto package's own classes;
links point at existing spans, from a delivery to the step that sent the message;
the output is deterministic (ids from the spec and the trace, synthetic time)."""
from __future__ import annotations

import base64
import json

import pytest

from conftest import ROOT, run_cli

trace_pb2 = pytest.importorskip("opentelemetry.proto.trace.v1.trace_pb2")
json_format = pytest.importorskip("google.protobuf.json_format")

GALLERY = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "specs").glob("*_broken.ha"))


def parse(doc: dict):
    """OTLP/JSON into the protobuf TracesData. OTLP/JSON writes trace and span ids as
    hex where protobuf's JSON mapping has base64 (the OTLP spec's one deviation), so
    the ids are re-encoded first, as an OTLP receiver does; everything else (enums as
    integers, int64 as strings) is protobuf's JSON mapping, parsed strictly."""
    def b64(hex_id: str, size: int) -> str:
        raw = bytes.fromhex(hex_id)
        assert len(raw) == size and hex_id == hex_id.lower()
        return base64.b64encode(raw).decode()

    doc = json.loads(json.dumps(doc))
    for rs in doc["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            for span in ss["spans"]:
                span["traceId"] = b64(span["traceId"], 16)
                span["spanId"] = b64(span["spanId"], 8)
                if "parentSpanId" in span:
                    span["parentSpanId"] = b64(span["parentSpanId"], 8)
                for link in span["links"]:
                    link["traceId"], link["spanId"] = b64(link["traceId"], 16), b64(link["spanId"], 8)
    return json_format.Parse(json.dumps(doc), trace_pb2.TracesData())


def attrs(kvs) -> dict:
    out = {}
    for kv in kvs:
        which = kv.value.WhichOneof("value")
        v = getattr(kv.value, which)
        out[kv.key] = [x.string_value for x in v.values] if which == "array_value" else v
    return out


def export(spec: str):
    from modelcheck import api
    from modelcheck.report.otlp import render_otlp

    v = api.verify(spec)
    return v, render_otlp(v.result, v.model, v.spec.source, v.options)


@pytest.mark.parametrize("spec", GALLERY)
def test_every_gallery_trace_is_otlp(spec):
    v, doc = export(spec)
    data = parse(doc)
    steps = v.json()["trace"]
    recs = steps["steps"] + (steps.get("cycle") or [])
    services = [attrs(rs.resource.attributes)["service.name"] for rs in data.resource_spans]
    assert services[0] == "modelcheck" and len(set(services)) == len(services)  # one resource per lane
    spans = [(service, s) for service, rs in zip(services, data.resource_spans)
             for ss in rs.scope_spans for s in ss.spans]
    assert len({s.trace_id for _, s in spans}) == 1
    by_id = {s.span_id: s for _, s in spans}
    assert len(by_id) == len(spans) == 1 + len(recs)
    (root,) = [s for _, s in spans if not s.parent_span_id]
    step_spans = sorted((s for _, s in spans if s is not root), key=lambda s: s.start_time_unix_nano)
    # one span per step, in order, named by its headline, each a child of the run, time synthetic
    assert [s.name for s in step_spans] == [r["text"] for r in recs]
    assert all(s.parent_span_id == root.span_id and s.kind == trace_pb2.Span.SPAN_KIND_INTERNAL for s in step_spans)
    assert [s.start_time_unix_nano - root.start_time_unix_nano for s in step_spans] == \
        [10 ** 6 * r["index"] for r in recs]
    for service, s in spans:
        a = attrs(s.attributes)
        if s is not root:
            assert a["modelcheck.node"] == service  # the span is on its node's lane
    for s, rec in zip(step_spans, recs):
        a = attrs(s.attributes)
        assert a["modelcheck.step.kind"] == rec["kind"] and a["modelcheck.step.index"] == rec["index"]
        assert {k[len("modelcheck.change."):] for k in a if k.startswith("modelcheck.change.")} == \
            {c["what"] for c in rec["changes"]}
        # a delivery links to the span of the step that sent (or duplicated) that message
        if rec["kind"] == "deliver":
            (link,) = s.links
            assert link.trace_id == s.trace_id and link.span_id in by_id
            sender = by_id[link.span_id]
            assert sender.start_time_unix_nano < s.start_time_unix_nano
            srec = recs[attrs(sender.attributes)["modelcheck.step.index"] - 1]
            msg = {k: x for k, x in rec["message"].items() if k != "age"}  # `age`: ticks in flight, not sent
            assert msg in srec["sent"] or (srec["kind"] == "duplicate" and srec["message"] == rec["message"])
        else:
            assert not s.links
    # the violation: an error status and an event on the last step, and on the run
    last = step_spans[-1] if step_spans else root
    assert last.status.code == trace_pb2.Status.STATUS_CODE_ERROR == root.status.code
    assert last.status.message == v.violation.message
    assert [e.name for e in last.events if e.name == "violation"] == ["violation"]
    if v.cycle is not None:  # a lasso: its stem, then one pass of the cycle
        assert attrs(root.attributes)["modelcheck.cycle.first_step"] == len(v.trace) + 1
        assert [bool(attrs(s.attributes).get("modelcheck.step.in_cycle")) for s in step_spans] == \
            [i >= len(v.trace) for i in range(len(recs))]


def test_sends_never_delivered_are_events():
    _, doc = export("specs/two_phase_commit_broken.ha")
    events = [(s["name"], e) for rs in doc["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]
              for e in s["events"] if e["name"] == "message sent, never delivered"]
    assert events
    keys = {a["key"] for _, e in events for a in e["attributes"]}
    assert {"modelcheck.message.kind", "modelcheck.message.from", "modelcheck.message.to",
            "modelcheck.message.fields"} <= keys


def test_cli_format_and_trace_out_agree_and_are_deterministic(tmp_path):
    out = tmp_path / "t.otlp.json"
    first = run_cli("verify", "specs/stonith_mutual_broken.ha", "--format", "otlp")
    again = run_cli("verify", "specs/stonith_mutual_broken.ha", "--format", "otlp")
    written = run_cli("verify", "specs/stonith_mutual_broken.ha", "-q", "--trace-out", str(out))
    assert first.returncode == again.returncode == written.returncode == 1
    assert first.stdout == again.stdout == out.read_text()
    assert "wrote the OpenTelemetry trace" in written.stderr
    parse(json.loads(first.stdout))
    other = json.loads(run_cli("verify", "specs/naive_failover.ha", "--format", "otlp").stdout)
    trace_id = json.loads(first.stdout)["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"]
    assert other["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"] != trace_id


def test_simulate_writes_otlp_and_holds_is_the_root_alone(tmp_path):
    out = tmp_path / "s.otlp.json"
    assert run_cli("simulate", "specs/naive_failover.ha", "--runs", "20", "--trace-out", str(out)).returncode == 1
    assert len(parse(json.loads(out.read_text())).resource_spans) == 2  # the run, and Server[1]'s steps
    proc = run_cli("verify", "specs/async_failover_fixed.ha", "--format", "otlp")
    assert proc.returncode == 0
    (rs,) = parse(json.loads(proc.stdout)).resource_spans
    (root,) = rs.scope_spans[0].spans
    assert attrs(root.attributes)["modelcheck.verdict"] == "holds" and root.status.code == 0
