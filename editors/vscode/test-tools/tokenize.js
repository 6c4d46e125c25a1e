// Tokenise documents with a TextMate grammar exactly as VS Code does (vscode-textmate
// on the Oniguruma regex engine), for tests/test_editor_grammar.py.
//
// stdin:  {"grammar": "path/to/x.tmLanguage.json", "documents": {"name": "text", ...}}
// stdout: {"name": [[[startIndex, endIndex, [scope, ...]], ...] for each line], ...}
// Indexes are UTF-16 code units of the line, as in VS Code.
"use strict";
const fs = require("fs");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

async function main() {
  const input = JSON.parse(fs.readFileSync(0, "utf8"));
  const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm"));
  const onigLib = oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength)).then(() => ({
    createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
    createOnigString: (s) => new oniguruma.OnigString(s),
  }));
  const raw = vsctm.parseRawGrammar(fs.readFileSync(input.grammar, "utf8"), input.grammar);
  const registry = new vsctm.Registry({
    onigLib,
    loadGrammar: async (scopeName) => (scopeName === raw.scopeName ? raw : null),
  });
  const grammar = await registry.loadGrammar(raw.scopeName);
  const out = {};
  for (const [name, text] of Object.entries(input.documents)) {
    let stack = vsctm.INITIAL;
    out[name] = text.split("\n").map((line) => {
      const r = grammar.tokenizeLine(line, stack);
      stack = r.ruleStack;
      return r.tokens.map((t) => [t.startIndex, Math.min(t.endIndex, line.length), t.scopes]);
    });
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack || err) + "\n");
  process.exit(1);
});
