"""The language server (`modelcheck lsp`) for editors.

A sub-package of its own because it needs pygls, an optional dependency
(`pip install 'modelcheck[lsp]'`): nothing else imports it, so a plain install
stays light. `analysis.py` answers an editor's questions from the parser, checker
and lint, without pygls; `server.py` speaks the protocol.
"""
