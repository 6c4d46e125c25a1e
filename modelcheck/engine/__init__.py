"""The explicit engines: the compiled model (states and successors), the compiler
and code generator for node code, the packed fast path, the explorer (breadth-first
search, stop rules), symmetry and sleep-set reductions, liveness, and the commands
built on them (matrix, simulate, replay)."""
