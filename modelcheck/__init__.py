"""modelcheck: a model checker for high-availability designs.

Data flows one way: lang (parse, check) -> engine (compile, explore) -> report;
smt (prove, lint) reads the same compiled model. Fault kinds, delivery modes and
operators are each defined once, in faults/, network/ and lang/operators.py.
docs/architecture.md draws the pipeline.
"""
__version__ = "0.1.0"

# The Python API (api.py, docs/api.md): `modelcheck.load`, `modelcheck.verify` and their
# types. Imported on first use, not here: `import modelcheck` (and the executable, which
# installs its signal handlers before the heavy imports, entry.py) stays instant.
_API = ("load", "verify", "Spec", "SpecError", "Verification", "TraceStep", "Change", "Stats", "Violation")
__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        from . import api
        return getattr(api, name)
    raise AttributeError(f"module 'modelcheck' has no attribute {name!r}")
