#!/usr/bin/env bash
# Sets up (Debian packages, Kokkos), builds, and runs the whole test suite with ctest.
# Arguments go to tools/setup.sh (e.g. --werror, --build-dir DIR).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=$ROOT/build
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  if [ "${args[$i]}" = "--build-dir" ]; then BUILD_DIR=$(realpath -m "${args[$((i + 1))]}"); fi
done
"$ROOT/tools/setup.sh" "$@"
# One test at a time: each test already uses every core through OpenMP, and oversubscribed
# OpenMP barriers stall.
ctest --test-dir "$BUILD_DIR" --output-on-failure
