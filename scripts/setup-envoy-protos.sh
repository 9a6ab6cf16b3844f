#!/usr/bin/env bash
# Installs Envoy's generated data-plane protos (PyPI xds-protos) into .venv-envoy, for the strict
# envoy.yaml schema check in tests/envoy/. Idempotent; CI runs it from .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x .venv-envoy/bin/python ] && .venv-envoy/bin/python -c "import envoy.config.bootstrap.v3.bootstrap_pb2, yaml" 2>/dev/null; then
  exit 0
fi
python3 -m venv .venv-envoy
.venv-envoy/bin/pip install --quiet --disable-pip-version-check xds-protos==1.85.0 pyyaml==6.0.3
