"""Validate modelcheck's JSON and ITF output against the schemas it ships
(modelcheck/schemas), with the `jsonschema` library (a test dependency only)."""
from __future__ import annotations

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from modelcheck import schemas

_REGISTRY = Registry().with_resources(
    [(uri, Resource.from_contents(schema)) for uri, schema in schemas.every_schema().items()])


def errors(doc: dict) -> list[str]:
    """Every schema violation of `doc` (a result, a matrix or an ITF trace), as text."""
    validator = Draft202012Validator(schemas.schema_for(doc), registry=_REGISTRY)
    found = sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message[:300]}" for e in found]


SAFE = 2 ** 53 - 1


def itf_rule_errors(doc: dict) -> list[str]:
    """The rules of ADR-015 (the Informal Trace Format) that a JSON Schema cannot say:
    every state defines exactly the variables of `vars`, `#meta.index` counts the
    states, `loop` is a state's index, ints are JSON numbers only in the safe range."""
    out = []
    for i, state in enumerate(doc["states"]):
        if set(state) - {"#meta"} != set(doc["vars"]):
            out.append(f"state {i} defines {sorted(set(state) - {'#meta'})}, vars are {doc['vars']}")
        if state.get("#meta", {}).get("index") != i:
            out.append(f"state {i} has #meta.index {state.get('#meta', {}).get('index')}")
    if "loop" in doc and not 0 <= doc["loop"] < len(doc["states"]):
        out.append(f"loop {doc['loop']} is not a state's index")

    def walk(x, where):
        if isinstance(x, bool):
            return
        if isinstance(x, int) and not -SAFE <= x <= SAFE:
            out.append(f"{where}: {x} is outside JSON's safe integer range: write it as #bigint")
        elif isinstance(x, float):
            out.append(f"{where}: {x} is not an integer")
        elif isinstance(x, list):
            for k, y in enumerate(x):
                walk(y, f"{where}[{k}]")
        elif isinstance(x, dict):
            for k, y in x.items():
                if k != "#meta":
                    walk(y, f"{where}.{k}")
    for i, state in enumerate(doc["states"]):
        walk(state, f"states[{i}]")
    return out
