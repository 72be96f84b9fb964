#!/usr/bin/env bash
# Builds the libFuzzer harnesses of fuzz/ (clang, -fsanitize=fuzzer,address,undefined, own build
# folder) and runs each for a bounded time on its committed seed corpus (fuzz/corpus/<harness>/).
# Fails on any finding: a crash, an ASan/UBSan report, an exception other than InputError, a hang
# (-timeout) or a memory blow-up (-rss_limit_mb / -malloc_limit_mb). Prints the inputs tried.
#
#   tools/fuzz.sh [--build-dir DIR] [--seconds S] [--only NAME] [--no-run]
#
#   --seconds S   run time per harness (default 25; 8 harnesses)
#   --only NAME   one harness (e.g. fuzz_scene)
#   Environment: CEMENTFLOW_DEPS (default <repo>/.deps; the CPU Kokkos, headers only, is used),
#                Kokkos_ROOT (use your own Kokkos), CEMENTFLOW_JOBS (default nproc).
# Findings are written to <build-dir>/findings/<harness>/ (reproduce: <build-dir>/<harness> FILE).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEPS=${CEMENTFLOW_DEPS:-$ROOT/.deps}
JOBS=${CEMENTFLOW_JOBS:-$(nproc)}
BUILD_DIR=$ROOT/build-fuzz
SECONDS_EACH=25
ONLY=""
RUN=1
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) BUILD_DIR=$(realpath -m "$2"); shift 2 ;;
    --seconds) SECONDS_EACH=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --no-run) RUN=0; shift ;;
    -h | --help) sed -n '2,13p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "fuzz.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
say() { printf '[fuzz] %s\n' "$*" >&2; }

# clang and its sanitizer/fuzzer runtimes (Debian), plus everything the engine needs.
PKGS=(clang libclang-rt-dev)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  say "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
if [ -z "${Kokkos_ROOT:-}" ]; then
  CEMENTFLOW_DEPS=$DEPS "$ROOT/tools/setup.sh" --deps-only
  Kokkos_ROOT=$DEPS/kokkos-openmp
fi

cfg=(-S "$ROOT/fuzz" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=None
  -DCMAKE_CXX_COMPILER=clang++ -DKokkos_ROOT="$Kokkos_ROOT")
command -v ccache >/dev/null 2>&1 && cfg+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
mkdir -p "$BUILD_DIR"
cmake "${cfg[@]}" >"$BUILD_DIR/configure.log" 2>&1 || { tail -n 30 "$BUILD_DIR/configure.log" >&2; exit 1; }
say "building the harnesses ($JOBS jobs)"
cmake --build "$BUILD_DIR" -j "$JOBS"
[ $RUN -eq 1 ] || exit 0

export ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=0:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
total=0
failed=()
for src in "$ROOT"/fuzz/fuzz_*.cpp; do
  name=$(basename "$src" .cpp)
  [ -n "$ONLY" ] && [ "$name" != "$ONLY" ] && continue
  corpus=$ROOT/fuzz/corpus/${name#fuzz_}
  work=$BUILD_DIR/work/$name
  findings=$BUILD_DIR/findings/$name
  rm -rf "$work" && mkdir -p "$work" "$findings"
  log=$BUILD_DIR/$name.log
  # Input size bounds: a CSV row costs a Levenberg-Marquardt fit thousands of evaluations (2 KB
  # is ~100 rows); JSON nesting beyond what 8 KB allows is the unit tests' job; files: 16 KB.
  case $name in
    fuzz_rheometer_csv) max_len=2048 ;;
    fuzz_scene) max_len=8192 ;;
    fuzz_bone_vdb) max_len=65536 ;;
    *) max_len=16384 ;;
  esac
  # The committed corpus stays read-only (seeds); new inputs go to the work folder.
  if (cd "$BUILD_DIR" && TMPDIR=$work "./$name" "$work" "$corpus" -max_total_time="$SECONDS_EACH" \
        -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 -max_len=$max_len \
        -artifact_prefix="$findings/" -print_final_stats=1 >"$log" 2>&1); then
    runs=$(awk '/stat::number_of_executed_units:/{print $2}' "$log" | tail -n 1)
    total=$((total + ${runs:-0}))
    say "$name: ${runs:-?} inputs in ${SECONDS_EACH} s, no finding"
  else
    failed+=("$name")
    say "$name: FINDING (log $log, input in $findings/):"
    grep -E "ERROR|SUMMARY|terminate|what\(\)|Timeout|out-of-memory|malloc limit" "$log" | head -n 8 >&2 || true
  fi
  rm -rf "$work"
done
say "inputs tried: $total"
if [ ${#failed[@]} -gt 0 ]; then
  say "findings in: ${failed[*]}"
  exit 1
fi
