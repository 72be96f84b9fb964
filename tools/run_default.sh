#!/usr/bin/env bash
# Sets up and builds cementflow, then runs the default scene and prints the summary of its report.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$ROOT/tools/setup.sh" "$@"
cd "$ROOT"
exec "$ROOT/build/cementflow" run scenes/vp_unipedicular_osteoporotic.json \
  --out out/vp_unipedicular_osteoporotic --render
