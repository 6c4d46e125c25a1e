"""z3 encodings: the symbolic transition relation and k-induction (`prove`), and
the lint checks that ask the solver about single expressions."""


def solver():
    """A z3 solver that leaves Ctrl-C to modelcheck. By default z3 installs its own
    SIGINT handler for the length of each check(): it cancels the check and swallows
    the signal, so a Ctrl-C that landed in a spec's analyses (dead messages,
    partitions, lint) was lost and the run went on to the end. With `ctrl_c` off
    Python's handler sees it (a KeyboardInterrupt once the check returns, and the
    usual summary); `prove` still cancels a long check at once through
    limits.z3_interruptible (Context.interrupt). Every solver of the package comes
    from here."""
    import z3

    s = z3.Solver()
    s.set("ctrl_c", False)
    return s
