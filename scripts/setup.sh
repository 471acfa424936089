#!/usr/bin/env bash
# Sets up what the tests need beyond the .NET SDK, and nothing else: Debian's Chromium (the browser tests of chart
# pages), Jupyter's client packages (the Jupyter route's test), the pinned .NET Interactive tool
# (.config/dotnet-tools.json) and its Jupyter kernelspec `.net-csharp`. Idempotent; prints nothing when everything is
# already there. Installs Debian packages with apt-get as root, or through sudo. Exit code 1 when something is still
# missing afterwards (with what and how to get it); scripts/test.sh then runs the tests anyway, and those that need the
# missing piece fail and say so.
set -uo pipefail
cd "$(dirname "$0")/.."

say() { echo "setup: $*"; }
missing_after=()

# --- Python with Jupyter's client -----------------------------------------------------------------------------------
# The Jupyter test runs scripts/jupyter_run.py with the first of: $SHRINK_JUPYTER_PYTHON, Debian's /usr/bin/python3,
# python3 on PATH (a conda environment from environment.yml) that imports nbclient, nbformat and jupyter_client.
# (`python3` on PATH may be a pyenv or venv Python without them, so Debian's is tried before it.)
jupyter_python() {
  local py
  for py in "${SHRINK_JUPYTER_PYTHON:-}" /usr/bin/python3 "$(command -v python3 2>/dev/null)"; do
    [ -n "$py" ] && [ -x "$py" ] || continue
    "$py" -c 'import nbclient, nbformat, jupyter_client' >/dev/null 2>&1 && { echo "$py"; return 0; }
  done
  return 1
}

# --- Debian packages ------------------------------------------------------------------------------------------------
apt_packages=()
[ -x /usr/bin/chromium ] || apt_packages+=(chromium)
if ! jupyter_python >/dev/null; then
  # jupyter-client brings jupyter_client and `jupyter kernelspec` (which `dotnet interactive jupyter install` calls),
  # jupyter-core the `jupyter` command.
  apt_packages+=(python3-nbclient python3-nbformat jupyter-client jupyter-core)
fi

if [ ${#apt_packages[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    say "no apt-get on this machine: install Chromium at /usr/bin/chromium and a Python with nbclient, nbformat and"
    say "jupyter_client (e.g. 'conda env create -f environment.yml' and activate it, or set SHRINK_JUPYTER_PYTHON)"
  else
    sudo_cmd=()
    if [ "$(id -u)" -ne 0 ]; then
      if command -v sudo >/dev/null; then sudo_cmd=(sudo); else sudo_cmd=(none); fi
    fi
    if [ "${sudo_cmd[*]:-}" = none ]; then
      say "not root and no sudo: run as root 'apt-get install ${apt_packages[*]}'"
    else
      say "installing ${apt_packages[*]} (apt-get)"
      export DEBIAN_FRONTEND=noninteractive
      if ! { "${sudo_cmd[@]}" apt-get update -qq >/dev/null &&
             "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null; }; then
        say "apt-get install ${apt_packages[*]} failed"
      fi
    fi
  fi
fi
[ -x /usr/bin/chromium ] || missing_after+=(chromium)

# --- the pinned .NET Interactive tool -------------------------------------------------------------------------------
if ! command -v dotnet >/dev/null; then
  say "the .NET SDK (dotnet) is not installed: https://dot.net/download (the tests need .NET 10)"
  exit 1
fi
if ! restore_log=$(dotnet tool restore 2>&1); then
  echo "$restore_log" >&2
  say "'dotnet tool restore' failed (is NuGet reachable?)"
  missing_after+=(dotnet-interactive)
fi

# --- the .NET Interactive kernelspec for Jupyter --------------------------------------------------------------------
if py=$(jupyter_python); then
  has_kernel() {
    "$py" -c 'import sys; from jupyter_client.kernelspec import KernelSpecManager as M; sys.exit(0 if ".net-csharp" in M().find_kernel_specs() else 1)' 2>/dev/null
  }
  if ! has_kernel; then
    say "registering the .NET Interactive kernels with Jupyter (dotnet interactive jupyter install)"
    # The tool finds `jupyter` on PATH: put the chosen Python's folder first, so its `jupyter kernelspec` is used.
    if ! install_log=$(PATH="$(dirname "$py"):$PATH" dotnet tool run dotnet-interactive -- jupyter install 2>&1) || ! has_kernel; then
      echo "$install_log" >&2
      say "the Jupyter kernelspec .net-csharp is still missing"
      missing_after+=(.net-csharp)
    fi
  fi
else
  missing_after+=("Jupyter's client (nbclient, nbformat, jupyter_client)")
fi

if [ ${#missing_after[@]} -gt 0 ]; then
  say "incomplete: ${missing_after[*]} missing; the tests that need them will fail"
  exit 1
fi
exit 0
