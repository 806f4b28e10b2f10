#!/usr/bin/env bash
# kube-harden's remediation beside kubeaudit's autofix, judged by the same criterion on the real control plane
# (test/integration/peer-remediation.test.ts; not in CI). Builds kubeaudit from the Go module proxy into
# ~/.cache/kube-harden/peers/ once, then runs the comparison on examples/legacy-cluster (and examples/legacy-apps)
# and writes the tables to $OUT (default: a temporary directory). See docs/remediation.md.
#
#   scripts/peer-remediation.sh            # both examples
#   KUBEAUDIT_VERSION=v0.22.2 scripts/peer-remediation.sh
set -euo pipefail
cd "$(dirname "$0")/.."
version="${KUBEAUDIT_VERSION:-v0.22.2}"
cache="${HOME}/.cache/kube-harden/peers"
bin="${cache}/bin/kubeaudit-${version}"
if [[ ! -x "${bin}" ]]; then
  # `go install …@version` fails on the proxy (it reads the module's version list for deprecations, which the proxy
  # refuses for this module): download the module and build its cmd/ package instead.
  export GOPATH="${cache}/gopath" GOFLAGS=-mod=mod
  dir="$(go mod download -json "github.com/Shopify/kubeaudit@${version}" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  rm -rf "${cache}/src-${version}"
  cp -r "${dir}" "${cache}/src-${version}"
  chmod -R u+w "${cache}/src-${version}"
  mkdir -p "${cache}/bin"
  (cd "${cache}/src-${version}" && go build -ldflags "-X github.com/Shopify/kubeaudit/cmd.Version=${version#v}" -o "${bin}" ./cmd)
fi
out="${OUT:-$(mktemp -d)}"
mkdir -p "${out}"
npm run build >/dev/null
KH_PEER_KUBEAUDIT="${bin}" KH_PEER_OUT="${out}/legacy-cluster.md" \
  npx vitest run --project integration test/integration/peer-remediation.test.ts
KH_PEER_KUBEAUDIT="${bin}" KH_PEER_OUT="${out}/legacy-apps.md" KH_PEER_EXAMPLE=examples/legacy-apps \
  KH_PEER_EXCEPTIONS= \
  npx vitest run --project integration test/integration/peer-remediation.test.ts
echo "tables: ${out}/legacy-cluster.md ${out}/legacy-apps.md"
