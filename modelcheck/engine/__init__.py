"""The explicit engines: the compiled model (states and successors), the compiler
and code generator for node code, the packed fast path, the explorer (breadth-first
search; the model contract it relies on, contract.py; its stop rules, stops.py; the
results it returns, result.py), symmetry and sleep-set reductions, liveness, and
the commands built on them (matrix, simulate, replay)."""
