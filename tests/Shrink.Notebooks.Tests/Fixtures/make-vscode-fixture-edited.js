// Usage: node make-vscode-fixture-edited.js vscode-polyglot.ipynb > vscode-polyglot-edited.ipynb
// The fixture after three edits made the way VS Code would save them (see NotebookModelTests.EditsAreWrittenAsVsCodeWritesThem).
const fs = require('fs');
const nb = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const text = 'edited\ttext \u0001 é 🙂 "q" \\ </script>\nsecond line\n';
nb.cells[5].source = text.split(/(?<=\n)/);
nb.cells[4].execution_count = 7;
nb.cells[4].outputs.push({ name: 'stdout', output_type: 'stream', text: ['hello\n', 'lone \ud800 surrogate'] });
const md = nb.metadata;
nb.metadata = { kernelspec: md.kernelspec, language_info: md.language_info,
  papermill: { parameters: { quick: true, lr: 0.001, n: 3000000000, s: 'x' } },
  polyglot_notebook: md.polyglot_notebook, vscode: md.vscode };
process.stdout.write(JSON.stringify(nb, undefined, ' ') + '\n');
