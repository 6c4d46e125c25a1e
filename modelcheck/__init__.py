"""modelcheck: a model checker for high-availability designs.

Data flows one way: parse (parser.py) -> check (checker.py) -> compile
(compiler.py, model.py) -> explore (explorer.py) -> report (report.py).
"""
__version__ = "0.1.0"
