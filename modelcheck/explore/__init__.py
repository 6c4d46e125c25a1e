"""`modelcheck explore SPEC`: step through a model yourself, in a local web page.

Why a sub-package: the explorer is a small web application (a session over the
model, an expression evaluator, an HTTP server and its static page) that shares
nothing with the search but the engine's own `Model.successors`, the report's
words for steps and states, and the report's sequence diagram; kept apart, the
command line imports none of it unless `explore` runs.

- session.py: paths (successor indices) -> states, labels, export, diagram;
- expression.py: expressions typed into the page, parsed and checked by the spec's
  own front end and evaluated in the current state;
- server.py: the standard library's threading HTTP server and the JSON API;
- static/: the page (HTML, CSS, JavaScript), shipped as package data.
"""
