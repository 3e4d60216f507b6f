# Shared by scripts/demo and scripts/test: create .venv at the repository root and install pcli.
# Usage: . scripts/_venv.sh [EXTRA]   (EXTRA: "sandbox" for moto, "test" for tests and lint too)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then PYTHON="$candidate"; break; fi
  done
fi
if [ -z "$PYTHON" ] || ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "pcli needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "==> Creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
SPEC="."
case "${1:-}" in
  test) SPEC=".[test,sandbox]" ;;
  sandbox) SPEC=".[sandbox]" ;;
esac
echo "==> Installing pcli into .venv ($SPEC)"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$SPEC" 2>&1 \
  | { grep -v "is ignored: it is neither a file nor a directory" || true; }
# An editable install leaves pcli's own modules uncompiled, and with PYTHONDONTWRITEBYTECODE set
# every run would compile them again; byte-compile them once, as installing a wheel does.
.venv/bin/python -m compileall -q -j 0 src >/dev/null
