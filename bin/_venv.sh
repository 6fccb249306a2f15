# Shared by bin/app and bin/test: make .venv and install the requirements when they changed.
set -euo pipefail
cd "$(dirname "$0")/.."
want=${1:-requirements.txt}
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=".venv/.installed-$(cat requirements*.txt | sha1sum | cut -c1-12)-$(basename "$want")"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r "$want"
  touch "$stamp"
fi
