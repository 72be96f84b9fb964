#!/usr/bin/env bash
# cementflow setup: installs the Debian packages the build needs, builds Kokkos 3.4.01 once from
# Debian's own trilinos source package into .deps/ (cached), then configures and builds cementflow.
# Idempotent: a second run only rebuilds what changed.
#
#   tools/setup.sh [--build-dir DIR] [--build-type Release|Debug|RelWithDebInfo]
#                  [--sanitize] [--tsan] [--werror] [--cuda] [--no-build] [--deps-only]
#
#   --sanitize   AddressSanitizer + UndefinedBehaviorSanitizer build (use with a separate --build-dir)
#   --tsan       ThreadSanitizer build with clang and LLVM's OpenMP (libomp; its Archer tool makes
#                OpenMP's synchronisation visible to TSan) against a Kokkos built the same way
#                (.deps/kokkos-openmp-tsan). Default build dir: build-tsan.
#   --werror     warnings are errors (CI)
#   --no-bench   do not build the benchmarks
#   --test-tiers "unit;validation"   which test tiers to build (default all three)
#   --targets "a b"  build only these targets (default: everything)
#   --cuda       build against a CUDA Kokkos (Kokkos 3.4.01 + our CUDA 13 patch, sm_80 PTX) with g++
#                as the host compiler; OpenVDB code stays on g++ (compile firewall). Compile only.
#                Default build dir: build-cuda. Later rebuilds need /usr/local/cuda/bin in PATH.
#   Environment: CEMENTFLOW_DEPS (default <repo>/.deps), CEMENTFLOW_JOBS (default nproc),
#                Kokkos_ROOT (use your own Kokkos >= 3.4 instead of building one).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEPS=${CEMENTFLOW_DEPS:-$ROOT/.deps}
JOBS=${CEMENTFLOW_JOBS:-$(nproc)}
BUILD_DIR=""
BUILD_TYPE=Release
SANITIZE=OFF
WERROR=OFF
CUDA=0
TSAN=0
DO_BUILD=1
BENCH=ON
TIERS="unit;validation;regression"
TARGETS=""
KOKKOS_VERSION=3.4.01

while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) BUILD_DIR=$(realpath -m "$2"); shift 2 ;;
    --build-type) BUILD_TYPE=$2; shift 2 ;;
    --sanitize) SANITIZE=ON; shift ;;
    --tsan) TSAN=1; shift ;;
    --werror) WERROR=ON; shift ;;
    --cuda) CUDA=1; shift ;;
    --no-build | --deps-only) DO_BUILD=0; shift ;;
    --no-bench) BENCH=OFF; shift ;;
    --test-tiers) TIERS=$2; shift 2 ;;
    --targets) TARGETS=$2; shift 2 ;;
    -h | --help) sed -n '2,20p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "setup.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

# A CUDA build gets its own default build dir: switching an OpenMP build dir to g++ + a CUDA
# Kokkos would keep the cached Kokkos_DIR (and CMake drops the cache when the compiler changes).
if [ -z "$BUILD_DIR" ]; then
  if [ $CUDA -eq 1 ]; then
    BUILD_DIR=$ROOT/build-cuda
  elif [ $TSAN -eq 1 ]; then
    BUILD_DIR=$ROOT/build-tsan
  else
    BUILD_DIR=$ROOT/build
  fi
fi

say() { printf '[setup] %s\n' "$*" >&2; }
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# ---------------------------------------------------------------------------------------------
# 1. Debian packages
# ---------------------------------------------------------------------------------------------
PKGS=(build-essential cmake ninja-build git ca-certificates patch dpkg-dev pkg-config
  libopenvdb-dev libboost-iostreams-dev libtbb-dev zlib1g-dev
  nlohmann-json3-dev libcli11-dev libgtest-dev googletest libbenchmark-dev
  libpng-dev libtiff-dev libeigen3-dev libnifti2-dev libgdcm-dev clang-format ccache
  libhypre-dev libopenmpi-dev
  pybind11-dev python3-dev python3-numpy python3-pytest libcpp-httplib-dev libxml2-utils
  libdcmtk-dev)
if [ ! -d /usr/local/cuda/include/cccl/thrust ]; then PKGS+=(libthrust-dev libcub-dev); fi
# clang with its sanitizer and fuzzer runtimes and LLVM's OpenMP (tools/fuzz.sh, --tsan).
PKGS+=(clang libclang-rt-dev libomp-dev)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
APT_UPDATED=0
apt_update() {
  if [ $APT_UPDATED -eq 0 ]; then
    $SUDO apt-get update -qq
    APT_UPDATED=1
  fi
}
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  apt_update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# ---------------------------------------------------------------------------------------------
# 2. Kokkos 3.4.01 from Debian's trilinos source package (only packages/kokkos is used)
# ---------------------------------------------------------------------------------------------
kokkos_source() {
  local src=$DEPS/src/kokkos-$KOKKOS_VERSION
  if [ -f "$src/CMakeLists.txt" ]; then echo "$src"; return; fi
  say "fetching Debian's trilinos source package for Kokkos $KOKKOS_VERSION"
  if ! apt-get source --print-uris trilinos >/dev/null 2>&1; then
    # A deb-src entry for the same mirror and suites as the system's own binary entries.
    local uri suites
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
      uri=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
      suites=$(awk '/^Suites:/{$1=""; print; exit}' /etc/apt/sources.list.d/debian.sources)
    else
      uri=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list)
      suites=$(awk '$1=="deb"{print $3; exit}' /etc/apt/sources.list)
    fi
    printf 'Types: deb-src\nURIs: %s\nSuites:%s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$uri" "$suites" | $SUDO tee /etc/apt/sources.list.d/cementflow-deb-src.sources >/dev/null
    APT_UPDATED=0
    apt_update
  fi
  local dl=$DEPS/src/download
  mkdir -p "$dl"
  (cd "$dl" && apt-get source --download-only trilinos >/dev/null 2>&1)
  local orig
  orig=$(ls "$dl"/trilinos_*.orig.tar.* | head -n 1)
  local tmp=$DEPS/src/extract
  rm -rf "$tmp" && mkdir -p "$tmp"
  tar xf "$orig" -C "$tmp" --wildcards '*/packages/kokkos/*'
  local kdir
  kdir=$(find "$tmp" -maxdepth 3 -type d -path '*/packages/kokkos' | head -n 1)
  grep -q "Kokkos_VERSION_MAJOR 3" "$kdir/CMakeLists.txt" &&
    grep -q "Kokkos_VERSION_MINOR 4" "$kdir/CMakeLists.txt" ||
    { say "unexpected Kokkos version in $orig"; exit 1; }
  mv "$kdir" "$src"
  rm -rf "$tmp" "$dl"
  echo "$src"
}

build_kokkos() { # $1 = name (openmp|cuda|openmp-tsan)
  local name=$1 prefix=$DEPS/kokkos-$1
  if [ -f "$prefix/lib/cmake/Kokkos/KokkosConfig.cmake" ]; then return; fi
  local src
  src=$(kokkos_source)
  local args=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix"
    -DCMAKE_CXX_STANDARD=17 -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DKokkos_ENABLE_SERIAL=ON)
  if [ "$name" = cuda ]; then
    local csrc=$DEPS/src/kokkos-$KOKKOS_VERSION-cuda
    if [ ! -f "$csrc/.cementflow-patched" ]; then
      rm -rf "$csrc" && cp -r "$src" "$csrc"
      (cd "$csrc" && patch -p1 -s <"$ROOT/tools/patches/kokkos-3.4.01-cuda13.patch")
      touch "$csrc/.cementflow-patched"
    fi
    src=$csrc
    args+=(-DKokkos_ENABLE_CUDA=ON -DKokkos_ENABLE_CUDA_LAMBDA=ON -DKokkos_ARCH_AMPERE80=ON
      -DCMAKE_CXX_COMPILER="$csrc/bin/nvcc_wrapper" -DCMAKE_CXX_FLAGS=-arch=sm_80)
    export PATH=/usr/local/cuda/bin:$PATH
  elif [ "$name" = openmp-tsan ]; then
    args=("${args[@]/-DCMAKE_BUILD_TYPE=Release/-DCMAKE_BUILD_TYPE=RelWithDebInfo}")
    args+=(-DKokkos_ENABLE_OPENMP=ON -DCMAKE_CXX_COMPILER=clang++
      "-DCMAKE_CXX_FLAGS=-fsanitize=thread -fno-omit-frame-pointer")
  else
    args+=(-DKokkos_ENABLE_OPENMP=ON)
  fi
  say "building Kokkos $KOKKOS_VERSION ($name) into $prefix"
  local b=$DEPS/build-kokkos-$name
  rm -rf "$b"
  cmake -S "$src" -B "$b" "${args[@]}" >"$DEPS/kokkos-$name-configure.log" 2>&1 ||
    { tail -n 30 "$DEPS/kokkos-$name-configure.log" >&2; exit 1; }
  cmake --build "$b" --target install -j "$JOBS" >"$DEPS/kokkos-$name-build.log" 2>&1 ||
    { tail -n 30 "$DEPS/kokkos-$name-build.log" >&2; exit 1; }
  rm -rf "$b"
}

mkdir -p "$DEPS"
if [ $CUDA -eq 1 ]; then
  [ -x /usr/local/cuda/bin/nvcc ] || { say "--cuda needs nvcc in /usr/local/cuda/bin"; exit 1; }
  build_kokkos cuda
  KOKKOS_DIR=$DEPS/kokkos-cuda
  # nvcc_wrapper (run by Kokkos's launcher for every Kokkos translation unit) finds nvcc in PATH,
  # also when the cached Kokkos was not rebuilt in this run.
  export PATH=/usr/local/cuda/bin:$PATH
elif [ $TSAN -eq 1 ]; then
  build_kokkos openmp-tsan
  KOKKOS_DIR=$DEPS/kokkos-openmp-tsan
elif [ -n "${Kokkos_ROOT:-}" ]; then
  KOKKOS_DIR=$Kokkos_ROOT
else
  build_kokkos openmp
  KOKKOS_DIR=$DEPS/kokkos-openmp
fi

# ---------------------------------------------------------------------------------------------
# 3. Configure and build cementflow
# ---------------------------------------------------------------------------------------------
[ $DO_BUILD -eq 1 ] || exit 0
cfg=(-S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE"
  -DKokkos_ROOT="$KOKKOS_DIR" -DCEMENTFLOW_SANITIZE="$SANITIZE" -DCEMENTFLOW_WERROR="$WERROR"
  -DCEMENTFLOW_BUILD_BENCH="$BENCH" "-DCEMENTFLOW_TEST_TIERS=$TIERS")
if [ $TSAN -eq 1 ]; then
  cfg+=(-DCMAKE_CXX_COMPILER=clang++ -DCEMENTFLOW_TSAN=ON)
fi
if [ $CUDA -eq 1 ]; then
  cfg+=(-DCMAKE_CXX_COMPILER=g++ -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc)
elif command -v ccache >/dev/null 2>&1; then
  cfg+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
say "configuring $BUILD_DIR ($BUILD_TYPE, Kokkos from $KOKKOS_DIR)"
cmake "${cfg[@]}" >"$DEPS/configure-$(basename "$BUILD_DIR").log" 2>&1 ||
  { tail -n 40 "$DEPS/configure-$(basename "$BUILD_DIR").log" >&2; exit 1; }
say "building ($JOBS jobs)"
if [ -n "$TARGETS" ]; then
  # shellcheck disable=SC2086
  cmake --build "$BUILD_DIR" -j "$JOBS" --target $TARGETS
else
  cmake --build "$BUILD_DIR" -j "$JOBS"
fi
say "done: $BUILD_DIR/cementflow"
