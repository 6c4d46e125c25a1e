// Starts `modelcheck lsp` (the command in the setting modelcheck.server.command) for
// .ha files. Highlighting needs none of this: it comes from syntaxes/ha.tmLanguage.json.
"use strict";
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("modelcheck").get("server.command", ["modelcheck", "lsp"]);
  if (!Array.isArray(command) || command.length === 0) {
    return;
  }
  client = new LanguageClient(
    "modelcheck",
    "modelcheck",
    { command: command[0], args: command.slice(1) },
    { documentSelector: [{ language: "ha" }] },
  );
  client.start().catch((err) => {
    vscode.window.showErrorMessage(
      `modelcheck: could not start '${command.join(" ")}': ${err.message || err}. ` +
      "Install the server with: pip install 'modelcheck[lsp]'");
  });
  context.subscriptions.push({ dispose: () => client && client.stop() });
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
