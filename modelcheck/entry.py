"""The `modelcheck` executable's entry point.

The signal handlers are installed before the command line's imports (lark, click,
the engine: a few hundred milliseconds), so a SIGTERM or Ctrl-C that arrives while
modelcheck starts also ends with exit 3 and a message, not with the bare signal."""
from __future__ import annotations

import sys


def main() -> None:
    from . import limits
    limits.install_signal_handlers()
    # Integers in a model are bounded (E206) but an intermediate value (`let` chains of
    # `*`) is not; Python's 4,300-digit conversion guard must not turn its message
    # into a crash. Traces abbreviate such numbers (values.int_text).
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)
    try:
        from .cli import main as cli_main
    except KeyboardInterrupt:
        sys.stderr.write(f"modelcheck: {limits.interrupted_text()} while starting; nothing was checked\n")
        sys.exit(3)
    cli_main()
