"""The partitioned breadth-first search (`verify --workers N`): states shared out
among worker processes by a hash of their values, levels synchronised so the result
is exactly the one-process search's (search.py, worker.py, wire.py, local.py)."""
