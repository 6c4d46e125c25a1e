"""z3 encodings: the symbolic transition relation and k-induction (`prove`), and
the lint checks that ask the solver about single expressions."""
