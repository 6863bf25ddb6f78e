#!/usr/bin/env sh
# Prints the path of a Python 3.13 interpreter (Lambda's runtime version).
# pyenv shims refuse to run unless PYENV_VERSION is set, so look at real binaries.
for p in "${PYTHON313:-}" $(command -v python3.13 2>/dev/null) "$HOME"/.pyenv/versions/3.13*/bin/python3.13 /usr/bin/python3.13 /usr/local/bin/python3.13; do
  [ -n "$p" ] && [ -x "$p" ] && "$p" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null && { echo "$p"; exit 0; }
done
echo "no Python 3.13 found: install python3.13 (apt) or pyenv install 3.13, or set PYTHON313" >&2
exit 1
