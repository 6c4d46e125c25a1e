"""`modelcheck graph`: the reachable state graph of a small model, as DOT or Mermaid.

Each state is a box listing every node's variables; the initial state is drawn
double, states that violate an invariant are red, and the edges of the first
counterexample (the shortest trace to the first violation) are bold red. Edges
are labelled with the step in the spec's words. A step that fails (a failed
`assert`, a value out of its range: a run-time error of the spec) has no target
state: it is a red edge to a red error node (e0, e1, ...) saying what failed.
Meant for small models: the command refuses past a state limit rather than
drawing an unreadable hairball.
"""
from __future__ import annotations

from ..engine import nxgraph
from ..engine.result import Result
from ..engine.liveness import Graph
from ..engine.model import Model
from .components import dot_clusters, mermaid_subgraphs
from .text import Describer


def graph_facts(result: Result, model: Model):
    """(bad state ids, counterexample edges as (src id, k)) for highlighting.

    The counterexample is the first violation found: a failing step (its edge to
    the error node ends it) or the BFS-first state that violates an invariant. Its
    stem is networkx's BFS-shortest path on the drawn graph (nxgraph.stem), the
    same one the explorer's parents give."""
    g: Graph = result.graph
    bad = {i for i, s in enumerate(g.states) if model.violated_invariants(s)}
    path: set[tuple[int, int]] = set()
    v = result.violation
    errors = getattr(g, "errors", [])
    failed = v is not None and v.name is None and v.kind in ("assert", "runtime_error") and bool(errors)
    if failed or bad:
        dg = nxgraph.digraph(g)
        parents = nxgraph.bfs_parents(dg)
        if failed:
            s, k = errors[0]  # recorded in BFS order: the first one is the one reported
            path = set(nxgraph.stem(dg, parents, s)) | {(s, k)}
        else:
            path = set(nxgraph.stem(dg, parents, min(bad)))
    return bad, path


def state_label_lines(model: Model, d: Describer, st) -> list[str]:
    """Everything that tells two states apart: variables, messages in flight, cut links, budgets."""
    lines = d.state_lines(st)
    msgs: dict[str, int] = {}
    for m in model.network.messages(st.net):
        key = f"{d.message(m)} {d.node(m[0])}->{d.node(m[1])}" + (f" age {m[4]}" if len(m) > 4 else "")
        msgs[key] = msgs.get(key, 0) + 1
    if msgs:
        lines.append("in flight: " + ", ".join(k + (f" x{n}" if n > 1 else "") for k, n in msgs.items()))
    if st.cut:
        lines.append(f"cut: {d.links(st.cut)}")
    if st.budgets:
        lines.append("budgets: " + d.budgets_text(st))
    return lines


def _edges(g: Graph):
    """Distinct (src, dst) edges with all their step indices, in a fixed order
    (failing steps excluded: see _error_edges)."""
    failing = set(getattr(g, "errors", ()))
    for s in range(len(g)):
        seen: dict[int, list[int]] = {}
        for k, t in enumerate(g.succ[s]):
            if (s, k) not in failing:
                seen.setdefault(t, []).append(k)
        for t, ks in seen.items():
            yield s, t, ks


def _error_edges(model: Model, g: Graph, cache: dict):
    """(src id, step indices, error lines) per state and distinct error: the failing
    steps, each drawn as an edge to an error node of its own."""
    groups: dict[tuple[int, tuple], list[int]] = {}
    for s, k in getattr(g, "errors", ()):
        if s not in cache:
            cache[s] = model.successors(g.states[s])
        err = cache[s][k].error
        kind = "assert failed" if getattr(err, "kind", None) == "assert" else "run-time error"
        lines = (f"ERROR: {kind}", str(getattr(err, "message", err)))
        span = getattr(err, "span", None)
        if getattr(span, "line", 0):
            lines += (f"at line {span.line}",)
        groups.setdefault((s, lines), []).append(k)
    for (s, lines), ks in groups.items():
        yield s, ks, list(lines)


def _labels(model: Model, g: Graph, d: Describer, s: int, ks: list[int], cache: dict) -> str:
    if s not in cache:
        cache[s] = model.successors(g.states[s])
    heads = [d.headline(cache[s][k].step) for k in ks]
    return heads[0] if len(heads) == 1 else f"{heads[0]} (+{len(heads) - 1} more)"


def render_dot(result: Result, model: Model, components: bool = False) -> str:
    g = result.graph
    d = Describer(model)
    bad, path = graph_facts(result, model)
    out = ["digraph states {", '  node [shape=box, fontname="monospace", fontsize=10];',
           '  edge [fontname="monospace", fontsize=9];']
    for i, st in enumerate(g.states):
        label = "\\l".join(_esc(x) for x in state_label_lines(model, d, st)) + "\\l"
        attrs = [f'label="s{i}\\l{label}"']
        if i == 0:
            attrs.append("peripheries=2")
        if i in bad:
            attrs += ['color="red"', 'style="filled"', 'fillcolor="#ffdddd"']
        out.append(f"  s{i} [{', '.join(attrs)}];")
    cache: dict = {}
    errors = list(_error_edges(model, g, cache))
    for n, (_, _, lines) in enumerate(errors):
        label = "\\l".join(_esc(x) for x in lines) + "\\l"
        out.append(f'  e{n} [label="e{n}\\l{label}", shape=octagon, color="red", style="filled", '
                   'fillcolor="#ffdddd"];')
    for s, t, ks in _edges(g):
        attrs = [f'label="{_esc(_labels(model, g, d, s, ks, cache))}"']
        if any((s, k) in path for k in ks):
            attrs += ['color="red"', "penwidth=2"]
        out.append(f"  s{s} -> s{t} [{', '.join(attrs)}];")
    for n, (s, ks, _) in enumerate(errors):  # failing steps: red, bold on the counterexample
        attrs = [f'label="{_esc(_labels(model, g, d, s, ks, cache))}"', 'color="red"']
        attrs.append("penwidth=2" if any((s, k) in path for k in ks) else 'style="dashed"')
        out.append(f"  s{s} -> e{n} [{', '.join(attrs)}];")
    if components:  # graph --components: boxes around the strongly connected components
        out += dot_clusters(g)
    out.append("}")
    return "\n".join(out) + "\n"


def render_mermaid_graph(result: Result, model: Model, components: bool = False) -> str:
    g = result.graph
    d = Describer(model)
    bad, path = graph_facts(result, model)
    out = ["flowchart TD"]
    for i, st in enumerate(g.states):
        text = "<br/>".join(_mm(x) for x in state_label_lines(model, d, st))
        out.append(f'    s{i}["s{i}<br/>{text}"]')
    cache: dict = {}
    errors = list(_error_edges(model, g, cache))
    for n, (_, _, lines) in enumerate(errors):
        text = "<br/>".join(_mm(x) for x in lines)
        out.append(f'    e{n}{{{{"e{n}<br/>{text}"}}}}')
    red, failing = [], []  # link numbers: the counterexample's; the other failing steps
    links = 0
    for s, t, ks in _edges(g):
        out.append(f'    s{s} -->|"{_mm(_labels(model, g, d, s, ks, cache))}"| s{t}')
        if any((s, k) in path for k in ks):
            red.append(str(links))
        links += 1
    for n, (s, ks, _) in enumerate(errors):  # failing steps: red, dotted unless on the counterexample
        on_path = any((s, k) in path for k in ks)
        out.append(f'    s{s} {"-->" if on_path else "-.->"}|"{_mm(_labels(model, g, d, s, ks, cache))}"| e{n}')
        (red if on_path else failing).append(str(links))
        links += 1
    if components:  # graph --components: boxes around the strongly connected components
        out += mermaid_subgraphs(g)
    out.append("    classDef bad fill:#fdd,stroke:#c00")
    out.append("    classDef init stroke-width:3px")
    if errors:
        out.append("    classDef error fill:#fdd,stroke:#c00,stroke-width:2px")
    if bad:
        out.append("    class " + ",".join(f"s{i}" for i in sorted(bad)) + " bad")
    out.append("    class s0 init")
    if errors:
        out.append("    class " + ",".join(f"e{n}" for n in range(len(errors))) + " error")
    if red:
        out.append(f"    linkStyle {','.join(red)} stroke:#c00,stroke-width:3px")
    if failing:
        out.append(f"    linkStyle {','.join(failing)} stroke:#c00")
    return "\n".join(out) + "\n"


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _mm(text: str) -> str:
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
