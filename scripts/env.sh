# shellcheck shell=bash
# usage: source scripts/env.sh
# The environment every project script and the Rust harness share: pinned
# versions, the cache directory, and the project-scoped podman configuration.
# Sourcing it changes nothing on the machine.

IPC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export IPC_ROOT
# The pinned settings (plain KEY=value lines, which the Rust harness reads
# too); a variable already set in the environment wins.
while IFS= read -r line; do
  key=${line%%=*}
  [[ $line == *=* && $key =~ ^[A-Z][A-Z0-9_]*$ ]] || continue
  [[ -n ${!key:-} ]] || printf -v "$key" '%s' "${line#*=}"
  export "${key?}"
done <"$IPC_ROOT/scripts/versions.env"
unset line key

# Build outputs live outside the repository, keyed by version below it.
: "${IPC_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/inplace-conformance}"
export IPC_CACHE

# "local" builds every image here from Debian packages and Go modules;
# "official" uses the upstream kind node and OpenKruise images from their
# registries (for machines that can reach them).
: "${IPC_IMAGE_SOURCE:=local}"
export IPC_IMAGE_SOURCE

if [[ $IPC_IMAGE_SOURCE == official ]]; then
  # kind's own node images bring their own containerd (2.x for 1.34+).
  : "${IPC_NODE_IMAGE:=docker.io/kindest/node:$K8S_VERSION}"
  : "${IPC_KRUISE_IMAGE:=docker.io/openkruise/kruise-manager:$KRUISE_VERSION}"
else
  ipc_node_tag=$K8S_VERSION
  [[ $CONTAINERD_VERSION == debian ]] || ipc_node_tag+=-containerd-$CONTAINERD_VERSION
  : "${IPC_NODE_IMAGE:=localhost/kindest/node:$ipc_node_tag}"
  : "${IPC_KRUISE_IMAGE:=localhost/openkruise/kruise-manager:$KRUISE_VERSION}"
  unset ipc_node_tag
fi
export IPC_NODE_IMAGE IPC_KRUISE_IMAGE
export IPC_BASE_IMAGE="localhost/inplace-conformance/base:$DEBIAN_SUITE"
export IPC_WORKLOAD_IMAGE="$WORKLOAD_REPO"
# The smoke check's images: the same content under a different label, so the
# node never holds the suites' images before they pull them from a registry.
export IPC_SMOKE_IMAGE="$SMOKE_REPO"
export IPC_REGISTRY_IMAGE="$REGISTRY_REPO:$REGISTRY_VERSION"
export IPC_STORAGE_IMAGE="localhost/inplace-conformance/local-path-provisioner:$LOCAL_PATH_VERSION"
export IPC_FLANNEL_IMAGE="localhost/inplace-conformance/flannel:$FLANNEL_VERSION"
export IPC_SONOBUOY_IMAGE="$SONOBUOY_REPO:$SONOBUOY_VERSION"
IPC_SUITE_IMAGE="$SUITE_REPO:$(sed -n 's/^version = "\(.*\)"$/\1/p' "$IPC_ROOT/Cargo.toml" | head -n 1)"
export IPC_SUITE_IMAGE

# podman reads only this file when CONTAINERS_CONF is set, so the project's
# settings never touch the user's system-wide configuration. bootstrap writes
# it; `bootstrap --system-podman-config` installs it system-wide instead.
if [[ -z ${CONTAINERS_CONF:-} && -f $IPC_CACHE/podman/containers.conf ]]; then
  export CONTAINERS_CONF=$IPC_CACHE/podman/containers.conf
fi
export KIND_EXPERIMENTAL_PROVIDER=podman

export IPC_KIND_BIN=$IPC_CACHE/kind/$KIND_VERSION/kind
export IPC_K8S_BIN=$IPC_CACHE/k8s/$K8S_VERSION/bin
PATH="$IPC_K8S_BIN:${IPC_KIND_BIN%/*}:$PATH"
export PATH
