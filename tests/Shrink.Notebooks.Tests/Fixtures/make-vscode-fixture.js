// Usage: node make-vscode-fixture.js > vscode-polyglot.ipynb
// Writes a notebook exactly as VS Code's ipynb serializer does: keys sorted recursively, JSON.stringify(…, undefined, ' ') + '\n'.
function sort(v) {
  if (Array.isArray(v)) return v.map(sort);
  if (v && typeof v === 'object') { const o = {}; for (const k of Object.keys(v).sort()) o[k] = sort(v[k]); return o; }
  return v;
}
const csharpMeta = { dotnet_interactive: { language: 'csharp' }, polyglot_notebook: { kernelName: 'csharp' }, vscode: { languageId: 'polyglot-notebook' } };
const nb = {
  cells: [
    { cell_type: 'markdown', metadata: {}, source: ['# A heading — with é and 🙂\n', '\n', 'This is a Markdown cell with <b>html</b> & an [link](https://example.com).'],
      attachments: { 'image.png': { 'image/png': 'iVBORw0KGgo=' } } },
    { cell_type: 'code', execution_count: 4, id: 'ebeb1e8c', metadata: csharpMeta,
      outputs: [ { data: { 'text/plain': ['A return value'] }, metadata: {}, output_type: 'display_data' } ],
      source: ['"A return value"'] },
    { cell_type: 'code', execution_count: 1, id: '77476c72', metadata: csharpMeta,
      outputs: [ { name: 'stdout', output_type: 'stream', text: ['output\r\n', 'tab\there\r\n'] } ],
      source: ['Console.Out.WriteLine("output");\n', 'Console.Out.WriteLine("tab\\there");'] },
    { cell_type: 'code', execution_count: 2, id: 'a1b2c3d4', metadata: Object.assign({ custom: { bar: [1, 2.5, true, null], nested: { empty: [], obj: {} } }, tags: ['parameters'] }, csharpMeta),
      outputs: [ { data: { 'text/html': ['<div id="x">\n', '<script>if (a < b && c > d) {}</script>\n', '</div>'], 'text/plain': ['Chart \u2028 line separator'] }, metadata: {}, output_type: 'display_data' },
                 { ename: 'Error', evalue: 'System.Exception: boom\u001b[31m red', output_type: 'error',
                   traceback: ['System.Exception: boom', '   at Submission#3.<<Initialize>>d__0.MoveNext()', '\u001b[0;31m---\u001b[0m'] } ],
      source: ['#!time\n', 'var quick = false;\n', 'display(HTML("<b>x</b>"));'] },
    { cell_type: 'code', execution_count: null, id: 'f00dfeed', metadata: { dotnet_interactive: { language: 'fsharp' }, polyglot_notebook: { kernelName: 'fsharp' }, vscode: { languageId: 'polyglot-notebook' } },
      outputs: [], source: ['let x = 1'] },
    { cell_type: 'raw', metadata: {}, source: [] },
  ],
  metadata: {
    kernelspec: { display_name: '.NET (C#)', language: 'C#', name: '.net-csharp' },
    language_info: { name: 'polyglot-notebook' },
    polyglot_notebook: { kernelInfo: { defaultKernelName: 'csharp', items: [
      { aliases: ['C#', 'c#'], languageName: 'C#', name: 'csharp' },
      { aliases: ['F#', 'f#'], languageName: 'F#', name: 'fsharp' },
      { aliases: [], name: 'value' } ] } },
    vscode: { interpreter: { hash: 'abc123' } },
  },
  nbformat: 4,
  nbformat_minor: 4,
};
process.stdout.write(JSON.stringify(sort(nb), undefined, ' ') + '\n');
