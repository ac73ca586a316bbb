#!/usr/bin/env bash
# Build helm from the Go module proxy, pinned, into a cache outside the repo; print its path.
# The lab installs its apps with it and the chart tests lint and dry-run with it.
# Exit 3: no Go and no cached helm of this version.
set -euo pipefail

HELM="${TURNOUT_HELM_VERSION:-v3.22.0}"
BIN="${TURNOUT_TOOLS_BIN:-$HOME/.cache/turnout-tools/bin}"
export GOTOOLCHAIN=local CGO_ENABLED=0

built() {  # the cached binary is this version (go version -m reads the module it came from)
  [ -x "$BIN/helm" ] || return 1
  command -v go >/dev/null || return 0
  go version -m "$BIN/helm" | grep -Eq "^\s+mod\s+helm\.sh/helm/v[0-9]+\s+$HELM(\s|$)"
}

if ! built; then
  command -v go >/dev/null || { echo "helm: Go is not installed; building helm needs Go" >&2; exit 3; }
  ( cd "$(mktemp -d)" && GOFLAGS= GOBIN="$BIN" go install -trimpath -ldflags "-s -w" \
      "helm.sh/helm/${HELM%%.*}/cmd/helm@$HELM" ) >&2
fi
echo "$BIN/helm"
