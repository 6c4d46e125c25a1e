"""JSON Schemas of modelcheck's machine-readable output, shipped with the package.

Why: tools that read `--format json` (of one spec or several), `matrix --format json`
or the ITF traces can validate what they get against the version they were written
for, without reading modelcheck's code. The files are JSON Schema 2020-12; the prose
they encode is docs/json-format.md. They refer to one another by file name, relative
to their `$id`s: a validator needs all of them (`every_schema`; the tests use the
`jsonschema` library, which modelcheck itself does not need).
"""
from __future__ import annotations

import json
from importlib import resources

# format name (the document's "format" field, or "itf") -> schema file
FILES = {"modelcheck-result": "result-v1.schema.json", "modelcheck-matrix": "matrix-v1.schema.json",
         "modelcheck-batch": "batch-v1.schema.json", "itf": "itf-v1.schema.json"}


def load(name: str) -> dict:
    """The schema for a format name of FILES, or a file name."""
    path = resources.files(__name__).joinpath(FILES.get(name, name))
    return json.loads(path.read_text(encoding="utf-8"))


def schema_for(doc: dict) -> dict:
    """The schema a modelcheck output document is written against."""
    if isinstance(doc, dict) and doc.get("format") in FILES:
        return load(doc["format"])
    return load("itf")


def every_schema() -> dict[str, dict]:
    """Each schema by its `$id` (what a validator's registry needs to follow $refs)."""
    out = {}
    for name in FILES.values():
        schema = load(name)
        out[schema["$id"]] = schema
    return out
