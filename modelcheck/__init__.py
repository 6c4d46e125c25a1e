"""modelcheck: a model checker for high-availability designs.

Data flows one way: lang (parse, check) -> engine (compile, explore) -> report;
smt (prove, lint) reads the same compiled model. Fault kinds, delivery modes and
operators are each defined once, in faults/, network/ and lang/operators.py.
docs/architecture.md draws the pipeline.
"""
__version__ = "0.1.0"
