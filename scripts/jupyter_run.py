#!/usr/bin/env python3
"""Runs notebooks through Jupyter's own client (nbclient) and a Jupyter kernel, the way JupyterLab would.

    /usr/bin/python3 scripts/jupyter_run.py notebooks/00-tour.ipynb -p quick=true --out artifacts/jupyter

Parameters follow papermill's convention: a code cell tagged `injected-parameters` holding one `var name = value;` line
per `-p name=value` goes right after the cell tagged `parameters` (or replaces an earlier injected cell), and the values
are recorded in the notebook's `metadata.papermill.parameters`. Each notebook runs in its own kernel with the notebook's
folder as working directory (so `#r "../artifacts/..."` resolves as in VS Code). The executed notebook is written to
--out (the source is never written). Prints one line per notebook; exit code 0 when every cell ran, 2 when a cell
failed, 1 on bad usage or a notebook that cannot be read.

Needs nbformat, nbclient and jupyter_client (Debian: python3-nbclient python3-nbformat jupyter-client; conda:
environment.yml) and the kernel registered with Jupyter (`.net-csharp`: scripts/setup.sh runs
`dotnet interactive jupyter install`).
"""

import argparse
import os
import re
import sys
import time

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"


def parse_parameter(text):
    """`name=value` -> (name, python value): true/false are booleans, numbers are numbers, anything else a string."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"-p {text!r}: expected name=value with a C# identifier as the name")
    raw = raw.strip()
    if raw in ("true", "True"):
        return name, True
    if raw in ("false", "False"):
        return name, False
    for convert in (int, float):
        try:
            return name, convert(raw)
        except ValueError:
            pass
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        raw = raw[1:-1]
    return name, raw


def csharp_literal(value):
    """A C# literal for a parameter value (papermill's CSharpTranslator)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if -2**31 <= value < 2**31 else f"{value}L"
    if isinstance(value, float):
        return repr(value) if ("." in repr(value) or "e" in repr(value)) else f"{value!r}.0"
    escaped = value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n").replace("\r", "\\r")
    return f"\"{escaped}\""


def inject_parameters(nb, parameters, nbformat):
    """Inserts (or replaces) the `injected-parameters` cell after the `parameters` cell, as papermill does."""
    if not parameters:
        return
    source = "// Parameters\n" + "\n".join(f"var {k} = {csharp_literal(v)};" for k, v in parameters.items())
    cell = nbformat.v4.new_code_cell(source=source, metadata={"tags": [INJECTED_TAG]})
    cells = nb.cells
    tags = [c.get("metadata", {}).get("tags", []) for c in cells]
    injected = [i for i, t in enumerate(tags) if INJECTED_TAG in t]
    marked = [i for i, t in enumerate(tags) if PARAMETERS_TAG in t]
    if injected:
        cells[injected[0]] = cell
    elif marked:
        cells.insert(marked[0] + 1, cell)
    else:
        print("warning: no cell tagged 'parameters'; the injected parameters go first", file=sys.stderr)
        cells.insert(0, cell)
    nb.metadata.setdefault("papermill", {})["parameters"] = dict(parameters)


def error_outputs(nb):
    """(cell index, ename, evalue) of every error output in the executed notebook."""
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append((i, out.get("ename", ""), out.get("evalue", "")))
    return found


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="+", help=".ipynb files")
    ap.add_argument("-p", "--parameter", action="append", default=[], metavar="NAME=VALUE",
                    help="a parameter injected papermill-style (repeatable)")
    ap.add_argument("--out", default=None, help="folder for the executed notebooks (default: none written)")
    ap.add_argument("--kernel", default=".net-csharp", help="Jupyter kernel name (default .net-csharp)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds a cell may run (default 1800)")
    ap.add_argument("--startup-timeout", type=float, default=300, help="seconds the kernel may take to start")
    args = ap.parse_args(argv)

    try:
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError
    except ImportError as e:
        print(f"jupyter_run: {e}. Install Jupyter's client: 'bash scripts/setup.sh' (Debian: apt-get install "
              "python3-nbclient python3-nbformat jupyter-client) or 'conda env create -f environment.yml'.",
              file=sys.stderr)
        return 1

    try:
        parameters = dict(parse_parameter(p) for p in args.parameter)
    except ValueError as e:
        print(f"jupyter_run: {e}", file=sys.stderr)
        return 1
    if args.out:
        os.makedirs(args.out, exist_ok=True)

    worst = 0
    for path in args.notebooks:
        name = os.path.basename(path)
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as e:  # not JSON, not a notebook: say which file
            print(f"{name}: cannot read {path}: {e}", file=sys.stderr)
            worst = max(worst, 1)
            continue
        inject_parameters(nb, parameters, nbformat)
        client = NotebookClient(nb, kernel_name=args.kernel, timeout=args.timeout,
                                startup_timeout=args.startup_timeout, allow_errors=False,
                                resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}})
        # The kernel's own log (its web server's start-up lines) goes to a file beside the executed notebook, not to
        # our output; its tail is printed when the kernel fails.
        log_path = os.path.join(args.out, os.path.splitext(name)[0] + ".kernel.log") if args.out else os.devnull
        started = time.monotonic()
        failure = None
        with open(log_path, "w", encoding="utf-8") as log:
            try:
                client.execute(stdout=log, stderr=log)
            except CellExecutionError as e:
                failure = str(e).strip().splitlines()
            except Exception as e:  # the kernel did not start, died, or a cell timed out
                failure = [f"{type(e).__name__}: {e}"]
                if args.out:
                    log.flush()
                    with open(log_path, encoding="utf-8", errors="replace") as f:
                        failure += ["kernel log (last lines):"] + f.read().splitlines()[-15:]
        seconds = time.monotonic() - started
        if args.out:
            nbformat.write(nb, os.path.join(args.out, name))
        errors = error_outputs(nb)
        code_cells = sum(1 for c in nb.cells if c.cell_type == "code")
        print(f"{name}: {code_cells} code cells, {len(errors)} errors, {seconds:.1f} s", flush=True)
        if failure or errors:
            for i, ename, evalue in errors:
                print(f"{name}: cells[{i}]: {ename}: {evalue}", file=sys.stderr)
            if failure and not errors:
                print(f"{name}: " + "\n".join(failure[-20:]), file=sys.stderr)
            worst = max(worst, 2)
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
