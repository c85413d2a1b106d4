#!/usr/bin/env bash
# usage: build-kubernetes.sh OUT_DIR WORK_DIR
# Builds the Kubernetes binaries of $K8S_VERSION from the k8s.io/kubernetes Go
# module, with the version ldflags upstream's hack/lib/version.sh sets, so every
# component reports $K8S_VERSION.
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: $0 OUT_DIR WORK_DIR" >&2; exit 2; }
out=$1 work=$2
: "${K8S_VERSION:?K8S_VERSION must be set}"
staging=v0.${K8S_VERSION#v1.}
export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local
mkdir -p "$out" "$work"
cd "$work"
if ! json=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION"); then
  jq -r .Error <<<"$json" >&2
  echo "Kubernetes $K8S_VERSION: no such version of k8s.io/kubernetes on the Go module proxy" >&2
  exit 1
fi
gomod=$(jq -r .GoMod <<<"$json")
gover=$(go mod edit -json "$gomod" | jq -r .Go)
printf 'module local/k8sbuild\n\ngo %s\n' "$gover" >go.mod
# GODEBUG defaults follow the main module: keep upstream's.
go mod edit -json "$gomod" | jq -r '.Godebug[]? | "\(.Key)=\(.Value)"' | while read -r kv; do
  go mod edit -godebug="$kv"
done
# Staging modules are required at v0.0.0 upstream; point them at their tags.
for m in $(go mod edit -json "$gomod" | jq -r '.Require[] | select(.Version=="v0.0.0") | .Path'); do
  go mod edit -replace="$m=$m@$staging"
done
cmds=(kubeadm kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy)
pkgs=()
for c in "${cmds[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
echo "resolving modules for ${#cmds[@]} commands"
go get "${pkgs[@]/%/@$K8S_VERSION}"
minor=$(echo "$K8S_VERSION" | cut -d. -f2)
ldflags="-s -w"
for kv in "gitVersion=$K8S_VERSION" "gitMajor=1" "gitMinor=$minor" "gitTreeState=clean" \
  "gitCommit=0000000000000000000000000000000000000000" "buildDate=1970-01-01T00:00:00Z"; do
  ldflags+=" -X 'k8s.io/component-base/version.$kv' -X 'k8s.io/client-go/pkg/version.$kv'"
done
echo "compiling ${cmds[*]}"
go build -p 2 -trimpath -tags=selinux,notest -ldflags "$ldflags" -o "$out/" "${pkgs[@]}"
got=$("$out/kubeadm" version -o short)
[[ $got == "$K8S_VERSION" ]] || { echo "kubeadm reports $got, expected $K8S_VERSION" >&2; exit 1; }
echo "built ${cmds[*]} $got"
