#!/usr/bin/env bash
# Build kube-apiserver, kube-controller-manager, kubectl and etcd from the Go module proxy into a
# cache keyed by version: ${KUBE_HARDEN_K8S_BIN_DIR:-~/.cache/kube-harden/k8s/<version>}.
# The version lives in one place: the `require k8s.io/kubernetes vX.Y.Z` line of go.mod
# (bump with ./gen-gomod.sh X.Y.Z). Prints the binary directory on stdout. Built once per machine.
set -euo pipefail
cd "$(dirname "$0")"
# No pipes into head/grep -q under pipefail: the reader closing early kills the writer with SIGPIPE (exit 141).
K=$(sed -n 's/^[[:space:]]*\(require[[:space:]]*\)\{0,1\}k8s\.io\/kubernetes \(v[0-9.]*\).*$/\2/p;T;q' go.mod)
[ -n "$K" ] || { echo "build.sh: cannot find the k8s.io/kubernetes version in go.mod" >&2; exit 1; }
OUT=${KUBE_HARDEN_K8S_BIN_DIR:-$HOME/.cache/kube-harden/k8s/$K}
if [ -f "$OUT/.complete" ]; then echo "$OUT"; exit 0; fi
mkdir -p "$OUT"
# One build per output dir at a time (e.g. a test run and `npm run cluster:build` started together): the
# second waits for the first and then finds .complete.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$OUT/.lock"
  if ! flock -n 9; then
    echo "another build into $OUT is running; waiting for it" >&2
    flock 9
  fi
  if [ -f "$OUT/.complete" ]; then echo "$OUT"; exit 0; fi
fi
MAJOR=${K#v}; MAJOR=${MAJOR%%.*}; MINOR=${K#v*.}; MINOR=${MINOR%%.*}
V=k8s.io/component-base/version; C=k8s.io/client-go/pkg/version
LDF="-s -w -X $V.gitVersion=$K -X $V.gitMajor=$MAJOR -X $V.gitMinor=$MINOR -X $V.gitTreeState=clean \
 -X $V.buildDate=1970-01-01T00:00:00Z -X $C.gitVersion=$K -X $C.gitMajor=$MAJOR -X $C.gitMinor=$MINOR"
export CGO_ENABLED=0 GOFLAGS=-trimpath
start=$(date +%s)
echo "building Kubernetes $K control plane into $OUT (first time only; ~10-30 min on 2 cores)" >&2
go build -ldflags "$LDF" -o "$OUT/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver >&2
go build -ldflags "$LDF" -o "$OUT/kube-controller-manager" k8s.io/kubernetes/cmd/kube-controller-manager >&2
go build -ldflags "$LDF" -o "$OUT/kubectl" k8s.io/kubernetes/cmd/kubectl >&2
go build -ldflags "-s -w" -o "$OUT/etcd" go.etcd.io/etcd/server/v3 >&2
"$OUT/kube-apiserver" --version >&2
etcd_version=$("$OUT/etcd" --version)
echo "${etcd_version%%$'\n'*}" >&2
echo "built in $(( $(date +%s) - start )) s" >&2
touch "$OUT/.complete"
echo "$OUT"
