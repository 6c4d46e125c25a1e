"""The language: grammar glue and parser (text -> syntax tree), the syntax tree,
types, the checker (names, types, bounds -> CheckedSpec), diagnostics and the
run-time values every later stage renders."""
