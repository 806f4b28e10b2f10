#!/usr/bin/env bash
# Regenerate go.mod/go.sum for one Kubernetes release, from the Go module proxy only.
# To bump the control plane: `test/cluster/k8s/gen-gomod.sh 1.36.4` and commit go.mod + go.sum.
set -euo pipefail
K=${1#v}; MINOR_PATCH=${K#1.}
cd "$(dirname "$0")"
rm -f go.mod go.sum
go mod init local.test/kube-harden-control-plane >/dev/null 2>&1
gomod=$(go mod download -json "k8s.io/kubernetes@v$K" | sed -n 's/.*"GoMod": "\([^"]*\)".*/\1/p')
# k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with ./staging/src/...;
# a dependency's replaces are ignored, so pin each staging module to its published v0.N.P.
for m in $(sed -n 's|^[[:space:]]*\(k8s\.io/[^ ]*\) => \./staging/src/.*|\1|p' "$gomod"); do
  go mod edit -replace="$m=$m@v0.$MINOR_PATCH"
done
gover=$(sed -n 's/^go \(.*\)$/\1/p' "$gomod")
go mod edit -go="$gover" -require="k8s.io/kubernetes@v$K"
godebug=$(sed -n 's/^godebug \(.*\)$/\1/p' "$gomod")
[ -n "$godebug" ] && printf '\ngodebug %s\n' "$godebug" >> go.mod
go mod edit -tool=k8s.io/kubernetes/cmd/kube-apiserver \
            -tool=k8s.io/kubernetes/cmd/kube-controller-manager \
            -tool=k8s.io/kubernetes/cmd/kubectl \
            -tool=go.etcd.io/etcd/server/v3
go mod tidy
go list -m k8s.io/kubernetes go.etcd.io/etcd/server/v3
