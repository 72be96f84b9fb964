#!/usr/bin/env bash
# Sets up and builds cementflow, then runs the default scene and prints the summary of its report.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$ROOT/tools/setup.sh" "$@"
cd "$ROOT"
exec "$ROOT/build/cementflow" run scenes/box_vp_default.json --out out/box_vp_default
