#!/usr/bin/env bash
# Regenerate docs/screens/*.txt: text captures (tmux capture-pane) of every screen of the wizard, in an 80×30
# terminal. They are taken by the end-to-end tests while they drive the real binary against a private control plane
# (started and stopped by the integration setup, see test/cluster/README.md): test/integration/wizard-e2e.test.ts
# (the screens one by one, and offline on examples/legacy-cluster) and test/integration/journey-e2e.test.ts (the
# whole journey on examples/fresh-cluster, phases 0 → 7 and the undos: journey-*.txt). The captures change only
# when the whole run passed.
#
#   scripts/capture-screens.sh
#
# Needs tmux and the control-plane binaries (npm run cluster:build). Run ids, ports and temp paths differ per run.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v tmux >/dev/null 2>&1 || { echo "capture-screens: tmux is required" >&2; exit 1; }

# The binary runs from dist/. Type errors elsewhere in the tree do not stop tsc from emitting; the test checks
# that the wizard was built.
npx tsc -p . >/dev/null 2>&1 || echo "capture-screens: tsc reported errors; continuing with what it emitted" >&2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
KUBE_HARDEN_SCREENS_DIR="$tmp" npx vitest run --project integration test/integration/wizard-e2e.test.ts \
  test/integration/journey-e2e.test.ts

find docs/screens -maxdepth 1 -name '*.txt' -delete
cp "$tmp"/*.txt docs/screens/
echo "capture-screens: $(ls "$tmp"/*.txt | wc -l) screens in docs/screens/"
