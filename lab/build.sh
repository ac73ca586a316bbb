#!/usr/bin/env bash
# Build the lab's Kubernetes control plane, etcd and kwok from the Go module proxy.
# Binaries are cached per version outside the repo, so only the first build is slow.
set -euo pipefail

K8S="${TURNOUT_LAB_K8S:-v1.36.3}"
STG="v0.${K8S#v1.}"
ETCD="${TURNOUT_LAB_ETCD:-v3.6.10}"
KWOK="${TURNOUT_LAB_KWOK:-v0.8.0}"
GATEWAY="${TURNOUT_LAB_GATEWAY:-v1.6.3}"
CACHE="${TURNOUT_LAB_CACHE:-$HOME/.cache/turnout-lab}"
OUT="$CACHE/k8s-$K8S-etcd-$ETCD-kwok-$KWOK"

export GOTOOLCHAIN=local CGO_ENABLED=0

have_bins() {
  for b in kube-apiserver kube-controller-manager kube-scheduler etcd kwok; do
    [ -x "$OUT/bin/$b" ] || return 1
  done
}

have_data() {
  [ -d "$OUT/gateway-crds" ] && [ -d "$OUT/kwok-stages" ] && [ -d "$OUT/kwok-crds" ]
}

if have_bins && have_data; then
  echo "$OUT"
  exit 0
fi

command -v go >/dev/null || { echo "lab: Go is not installed; the lab needs Go >= 1.26" >&2; exit 3; }
mkdir -p "$OUT/bin"
started=$(date +%s)

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
# A cache made before a data folder was added only needs that folder, not a rebuild.
have_bins || (
  cd "$W"
  export GOFLAGS=-mod=mod
  go mod init lab.invalid/k8sbins >/dev/null 2>&1
  GOMOD=$(go mod download -json "k8s.io/kubernetes@$K8S" | python3 -c 'import json,sys;print(json.load(sys.stdin)["GoMod"])')
  # Kubernetes requires its staging modules at v0.0.0 and replaces them locally;
  # map each to its published version, generated from Kubernetes' own go.mod.
  for m in $(awk '$1 ~ /^k8s\.io\// && $2=="v0.0.0" {print $1}' "$GOMOD" | sort -u); do
    go mod edit -replace="$m=$m@$STG"
  done
  go get "k8s.io/kubernetes@$K8S"
  go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@$K8S" "k8s.io/kubernetes/cmd/kube-controller-manager@$K8S" \
               "k8s.io/kubernetes/cmd/kube-scheduler@$K8S" "go.etcd.io/etcd/server/v3@$ETCD"
  go mod tidy
  go build -trimpath -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$K8S" -o "$OUT/bin/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler
  go build -trimpath -ldflags "-s -w" -o "$OUT/bin/etcd" go.etcd.io/etcd/server/v3
)
# kwok outside the wrapper module: its replaces would force other k8s library versions on it.
have_bins || ( cd "$(mktemp -d)" && GOFLAGS= GOBIN="$OUT/bin" go install -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK" )

MODCACHE=$(go env GOMODCACHE)
( cd "$(mktemp -d)" && go mod init x >/dev/null 2>&1 && GOFLAGS=-mod=mod go mod download "sigs.k8s.io/kwok@$KWOK" "sigs.k8s.io/gateway-api@$GATEWAY" )
rm -rf "$OUT/kwok-stages" "$OUT/kwok-crds" "$OUT/gateway-crds"
cp -r "$MODCACHE/sigs.k8s.io/kwok@$KWOK/kustomize/stage" "$OUT/kwok-stages"
cp -r "$MODCACHE/sigs.k8s.io/kwok@$KWOK/kustomize/crd/bases" "$OUT/kwok-crds"
cp -r "$MODCACHE/sigs.k8s.io/gateway-api@$GATEWAY/config/crd/standard" "$OUT/gateway-crds"
chmod -R u+w "$OUT/kwok-stages" "$OUT/kwok-crds" "$OUT/gateway-crds"

echo "lab: built in $(( $(date +%s) - started )) s" >&2
echo "$OUT"
