#!/usr/bin/env bash
# A local MLflow tracking server for `dmlft report --to-mlflow` (and its test):
#   scripts/mlflow-server.sh PORT DIR    # install mlflow if needed, then run the server in the
#                                        # foreground: http://127.0.0.1:PORT, runs in
#                                        # DIR/mlflow.db (SQLite), artifacts in DIR/artifacts
#   scripts/mlflow-server.sh --install   # only install (idempotent); prints the mlflow binary
# mlflow (pip, version $DMLFT_MLFLOW_VERSION, default below) lives in a cached venv:
# $DMLFT_MLFLOW_VENV, default .venv-mlflow/ in the repository; an existing one of the right
# version is reused. Needs python3 with venv and PyPI.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="${DMLFT_MLFLOW_VERSION:-3.17.2}"
venv="${DMLFT_MLFLOW_VENV:-$root/.venv-mlflow}"
usage="usage: $0 PORT DIR | $0 --install"

install() {
  # One install at a time (CI starts one in the background; the test's own call then waits).
  # The lock is held in a subshell so that the server started below does not inherit it.
  mkdir -p "$(dirname "$venv")"
  ( flock 9; install_unlocked ) 9>"$venv.lock"
}

install_unlocked() {
  if [ -x "$venv/bin/mlflow" ] && [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("mlflow"))' 2>/dev/null)" = "$version" ]; then
    return 0
  fi
  echo "installing mlflow $version into $venv (about 2-3 minutes)" >&2
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "mlflow==$version" >&2
}

if [ "${1:-}" = "--install" ]; then
  install
  echo "$venv/bin/mlflow"
  exit 0
fi
port="${1:?$usage}"
dir="${2:?$usage}"
install
mkdir -p "$dir/artifacts"
dir="$(cd "$dir" && pwd)"
# One worker: a test server on a small machine. exec: the caller's pid is the server's.
exec "$venv/bin/mlflow" server --host 127.0.0.1 --port "$port" --workers 1 \
  --backend-store-uri "sqlite:///$dir/mlflow.db" --default-artifact-root "$dir/artifacts"
