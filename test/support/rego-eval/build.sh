#!/usr/bin/env bash
# Builds the Rego evaluator the Gatekeeper template's test uses (test/unit/steps/registries-native-rego.test.ts),
# OPA at the version go.mod pins, from the Go module proxy; cached by that version under
# ~/.cache/kube-harden/rego-eval/. Prints the binary's path (stdout only), e.g.
#   KUBE_HARDEN_REGO_EVAL=$(test/support/rego-eval/build.sh) npm test
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version=$(awk '$1 == "require" && $2 == "github.com/open-policy-agent/opa" { print $3 }' "$here/go.mod")
[ -n "$version" ] || { echo "no OPA version in $here/go.mod" >&2; exit 1; }
out="${XDG_CACHE_HOME:-$HOME/.cache}/kube-harden/rego-eval/$version"
if [ ! -x "$out/rego-eval" ]; then
  mkdir -p "$out"
  echo "building the Rego evaluator (OPA $version) into $out" >&2
  (cd "$here" && go build -o "$out/rego-eval.tmp" .) >&2
  mv "$out/rego-eval.tmp" "$out/rego-eval"
fi
echo "$out/rego-eval"
