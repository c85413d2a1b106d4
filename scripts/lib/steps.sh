# shellcheck shell=bash
# usage: source scripts/lib/steps.sh   (after env.sh and common.sh)
# The bootstrap steps. Each NAME has done_NAME (is the cached output there?)
# and do_NAME (build it; output goes to the step's log).

# The etcd image is tagged with the version really built; when that differs
# from kubeadm's default, scripts/cluster sets kubeadm's etcd imageTag.
etcd_image_tag() { echo "${ETCD_VERSION#v}-0"; }
kubeadm_etcd_tag() { kubeadm_image etcd | sed 's/.*://'; }
kubeadm_image() { "$IPC_K8S_BIN/kubeadm" config images list --kubernetes-version "$K8S_VERSION" 2>/dev/null | grep "/$1:"; }

# --- host ------------------------------------------------------------------
# binutils: strip, for the suite's image (scripts/in-cluster image).
host_packages=(podman runc netavark aardvark-dns containernetworking-plugins debootstrap jq uidmap curl python3-yaml binutils)
host_commands=(podman runc debootstrap jq curl strip /usr/lib/cni/bridge /usr/lib/podman/netavark /usr/lib/python3/dist-packages/yaml)

done_host() {
  local c
  for c in "${host_commands[@]}"; do command -v "$c" >/dev/null || [[ -e $c ]] || return 1; done
  [[ -f $IPC_CACHE/podman/containers.conf ]] && podman_config_current && inotify_ok && [[ -d /lib/modules ]]
}
do_host() {
  local c missing=0
  for c in "${host_commands[@]}"; do command -v "$c" >/dev/null || [[ -e $c ]] || missing=1; done
  if [[ $missing == 1 ]]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${host_packages[@]}"
  fi
  write_podman_config "$IPC_CACHE/podman/containers.conf"
  # kind nodes run systemd, kubelet and containerd: each wants inotify
  # instances; the kernel default of 128 runs out with one node.
  inotify_ok || sysctl -w fs.inotify.max_user_instances=512 fs.inotify.max_user_watches=524288
  # kind mounts /lib/modules read-only into every node.
  mkdir -p /lib/modules
  podman --version
}
podman_config_current() {
  local want
  want=$(write_podman_config /dev/stdout)
  [[ $want == "$(cat "$IPC_CACHE/podman/containers.conf")" ]]
}
inotify_ok() {
  (($(cat /proc/sys/fs/inotify/max_user_instances) >= 512)) &&
    (($(cat /proc/sys/fs/inotify/max_user_watches) >= 524288))
}

# write_podman_config FILE: the settings kind nodes need on this kind of
# host (see README "Podman settings").
write_podman_config() {
  local hard
  hard=$(ulimit -Hn)
  [[ $hard == unlimited ]] && hard=1048576
  [[ $1 == /dev/stdout ]] || mkdir -p "$(dirname "$1")"
  cat >"$1" <<CONF
# Written by inplace-conformance scripts/bootstrap.
[containers]
# runc cannot raise rlimits above the hard limit without CAP_SYS_RESOURCE.
default_ulimits = ["nofile=$hard:$hard", "nproc=$hard:$hard"]
# A kind node runs every pod of the cluster: no pids cap.
pids_limit = 0
# kind follows node logs with "podman logs -f".
log_driver = "k8s-file"

[engine]
# --cgroupns=private is refused with the systemd manager on cgroup v1.
cgroup_manager = "cgroupfs"
# crun refuses this host's hybrid cgroup layout; runc runs kind nodes on it.
runtime = "runc"
events_logger = "file"

[network]
network_backend = "netavark"
CONF
}

# --- kind ------------------------------------------------------------------
done_kind() { [[ -x $IPC_KIND_BIN ]] && "$IPC_KIND_BIN" version | grep -q "$KIND_VERSION"; }
do_kind() {
  mkdir -p "$(dirname "$IPC_KIND_BIN")"
  GOBIN=$(dirname "$IPC_KIND_BIN") CGO_ENABLED=0 GOTOOLCHAIN=local go install -trimpath "sigs.k8s.io/kind@$KIND_VERSION"
  "$IPC_KIND_BIN" version
}

# --- kubernetes --------------------------------------------------------------
done_kubernetes() { [[ $("$IPC_K8S_BIN/kubeadm" version -o short 2>/dev/null) == "$K8S_VERSION" ]] && [[ -x $IPC_K8S_BIN/kube-proxy ]]; }
do_kubernetes() { bash "$IPC_ROOT/scripts/lib/build-kubernetes.sh" "$IPC_K8S_BIN" "$IPC_CACHE/k8s/$K8S_VERSION/wrap"; }

# --- etcd --------------------------------------------------------------------
etcd_bin() { echo "$IPC_CACHE/etcd/$ETCD_VERSION/etcd"; }
done_etcd() { [[ -x $(etcd_bin) ]]; }
do_etcd() {
  local src=$IPC_CACHE/etcd/$ETCD_VERSION/src
  rm -rf "$src" && mkdir -p "$src" && cd "$src" || return 1
  # The same entry point as upstream's server/main.go.
  printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' >main.go
  go mod init local/etcd
  GOFLAGS=-mod=mod go get "go.etcd.io/etcd/server/v3/etcdmain@$ETCD_VERSION"
  CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local go build -trimpath -ldflags '-s -w' -o "$(etcd_bin)" .
  "$(etcd_bin)" --version
}

# --- pause (also PID 1 of the workload images) -------------------------------
pause_key() { tree_hash images/pause; }
pause_bin() { echo "$IPC_CACHE/pause/$(pause_key)/pause"; }
done_pause() { [[ -x $(pause_bin) ]]; }
do_pause() {
  cd "$IPC_ROOT/images/pause" || return 1
  CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS='' go build -trimpath -ldflags '-s -w' -o "$(pause_bin)" .
  "$(pause_bin)" -v
}

# --- base image: a Debian minbase every local image starts from --------------
done_base() { image_exists "$IPC_BASE_IMAGE"; }
do_base() {
  local root=$IPC_CACHE/rootfs/base-$DEBIAN_SUITE mirror
  mirror=$(debian_mirror) || { echo "no Debian mirror found in apt's sources; set DEBIAN_MIRROR"; return 1; }
  rm -rf "$root"
  debootstrap --variant=minbase --include=iptables,nftables,conntrack,ipset,ca-certificates,procps \
    "$DEBIAN_SUITE" "$root" "$mirror"
  # kube-proxy and the node share the iptables backend: legacy, as kind picks on a tie.
  chroot "$root" update-alternatives --set iptables /usr/sbin/iptables-legacy
  chroot "$root" update-alternatives --set ip6tables /usr/sbin/ip6tables-legacy
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  chmod 1777 "$root/tmp"
  tar -C "$root" --numeric-owner -c . | podman import - "$IPC_BASE_IMAGE"
  rm -rf "$root"
}

# build_image REF CONTEXT_DIR: podman build of a Containerfile without RUN
# steps, never pulling (every base is local).
build_image() { podman build --pull=never -q -t "$1" "$2"; }

# image_from_binary REF BINARY PATH_IN_IMAGE
image_from_binary() {
  local ctx
  ctx=$(mktemp -d)
  cp "$2" "$ctx/bin"
  printf 'FROM %s\nCOPY bin %s\nENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin\nENTRYPOINT ["%s"]\n' \
    "$IPC_BASE_IMAGE" "$3" "$3" >"$ctx/Containerfile"
  build_image "$1" "$ctx"
  rm -rf "$ctx"
}

# --- control-plane images, named exactly as the built kubeadm lists them ------
k8s_images_tar() { echo "$IPC_CACHE/images/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-pause-$(pause_key).tar"; }
done_control_plane_images() { [[ -s $(k8s_images_tar) ]]; }
do_control_plane_images() {
  local ref refs=() name
  while read -r ref; do
    name=${ref##*/}
    name=${name%%:*}
    case $name in
      kube-apiserver | kube-controller-manager | kube-scheduler | kube-proxy)
        image_from_binary "$ref" "$IPC_K8S_BIN/$name" "/usr/local/bin/$name" ;;
      etcd)
        ref=${ref%:*}:$(etcd_image_tag)
        image_from_binary "$ref" "$(etcd_bin)" /usr/local/bin/etcd
        ;;
      pause) image_from_binary "$ref" "$(pause_bin)" /pause ;;
      coredns) continue ;; # the default cluster skips the CoreDNS addon
      *) echo "kubeadm lists an image this script does not build: $ref"; return 1 ;;
    esac
    refs+=("$ref")
  done < <("$IPC_K8S_BIN/kubeadm" config images list --kubernetes-version "$K8S_VERSION")
  mkdir -p "$IPC_CACHE/images"
  rm -f "$IPC_CACHE/images/k8s-$K8S_VERSION-"*.tar
  podman save -m -o "$(k8s_images_tar).part" "${refs[@]}"
  mv "$(k8s_images_tar).part" "$(k8s_images_tar)"
  printf 'saved %s\n' "${refs[@]}"
}

# --- default storage: local-path-provisioner (images/local-path) -------------
storage_tar() { echo "$IPC_CACHE/images/local-path-$LOCAL_PATH_VERSION-$(tree_hash images/local-path).tar"; }
done_storage() { [[ -s $(storage_tar) ]]; }
do_storage() {
  local out=$IPC_CACHE/local-path/$LOCAL_PATH_VERSION
  GOBIN=$out CGO_ENABLED=0 GOTOOLCHAIN=local go install -trimpath -ldflags '-s -w' \
    "github.com/rancher/local-path-provisioner@$LOCAL_PATH_VERSION"
  image_from_binary "$IPC_STORAGE_IMAGE" "$out/local-path-provisioner" /usr/local/bin/local-path-provisioner
  rm -f "$IPC_CACHE/images/local-path-"*.tar
  podman save -o "$(storage_tar).part" "$IPC_STORAGE_IMAGE"
  mv "$(storage_tar).part" "$(storage_tar)"
}

# --- pod network of multi-node clusters: flanneld (kind-config/flannel.yaml) --
# Two of flannel's backends cannot be built here and are left out of a
# writable copy of its module: tencentvpc needs an SDK module version the
# Go module proxy refuses, and udp needs cgo on amd64. host-gw, the one the
# suite uses, is unaffected.
done_cni() { image_exists "$IPC_FLANNEL_IMAGE"; }
do_cni() {
  local json src out=$IPC_CACHE/flannel/$FLANNEL_VERSION
  json=$(go mod download -json "github.com/flannel-io/flannel@$FLANNEL_VERSION") ||
    { jq -r .Error <<<"$json"; return 1; }
  src=$out/src
  rm -rf "$src" && mkdir -p "$out"
  cp -r "$(jq -r .Dir <<<"$json")" "$src" && chmod -R u+w "$src" && cd "$src" || return 1
  sed -i -e '\#flannel/pkg/backend/tencentvpc"#d' -e '\#flannel/pkg/backend/udp"#d' main.go
  CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local go build -trimpath -ldflags '-s -w' -o "$out/flanneld" .
  cd / && rm -rf "$src"
  image_from_binary "$IPC_FLANNEL_IMAGE" "$out/flanneld" /usr/local/bin/flanneld
  "$out/flanneld" --version
}

# --- container runtime of the node image --------------------------------------
# CONTAINERD_VERSION=debian: Debian's package, installed with the rootfs.
# Otherwise containerd, ctr and the runc shim built from their module, as
# kind's base image builds them (without cgo: the btrfs, devmapper and zfs
# snapshotters are left out; kind nodes use overlayfs).
containerd_module=github.com/containerd/containerd/v2
containerd_bin_dir() { echo "$IPC_CACHE/containerd/$CONTAINERD_VERSION/bin"; }
# containerd_version_refusal: why CONTAINERD_VERSION cannot be built here
# (one line), or nothing; checked before any step runs.
containerd_version_refusal() {
  [[ $CONTAINERD_VERSION == debian ]] && return 0
  if [[ ! $CONTAINERD_VERSION =~ ^v2\.[0-9]+\.[0-9]+$ ]]; then
    echo "CONTAINERD_VERSION=$CONTAINERD_VERSION is neither 'debian' nor a containerd 2.x release (v2.MINOR.PATCH)"
    return 0
  fi
  local json
  json=$(cd / && go mod download -json "$containerd_module@$CONTAINERD_VERSION" 2>/dev/null) ||
    echo "containerd $CONTAINERD_VERSION: the Go module proxy does not serve $containerd_module@$CONTAINERD_VERSION ($(jq -r '.Error // "go mod download failed"' <<<"$json" 2>/dev/null | head -n1))"
}
done_containerd() {
  [[ $CONTAINERD_VERSION == debian ]] && return 0
  "$(containerd_bin_dir)/containerd" --version 2>/dev/null | grep -q " ${CONTAINERD_VERSION} " &&
    [[ -x $(containerd_bin_dir)/ctr && -x $(containerd_bin_dir)/containerd-shim-runc-v2 ]]
}
do_containerd() {
  local cmd pkgs=()
  for cmd in containerd ctr containerd-shim-runc-v2; do pkgs+=("$containerd_module/cmd/$cmd@$CONTAINERD_VERSION"); done
  mkdir -p "$(containerd_bin_dir)"
  GOBIN=$(containerd_bin_dir) CGO_ENABLED=0 GOTOOLCHAIN=local go install -trimpath \
    -ldflags "-s -w -X $containerd_module/version.Version=$CONTAINERD_VERSION" \
    -tags 'no_btrfs no_devmapper no_zfs' "${pkgs[@]}"
  "$(containerd_bin_dir)/containerd" --version
}

# --- node image -------------------------------------------------------------
# The node image embeds the control-plane images, kind's base files and the
# container runtime. The Debian runtime's stamp keeps its first name.
node_key() { echo "$(basename "$(k8s_images_tar)")-$(basename "$(storage_tar)")-kind-$KIND_VERSION-containerd-$CONTAINERD_VERSION-$(tree_hash scripts/lib/build-node-image.sh)"; }
node_stamp() {
  if [[ $CONTAINERD_VERSION == debian ]]; then echo "node-image-$K8S_VERSION"; else echo "node-image-$K8S_VERSION-containerd-$CONTAINERD_VERSION"; fi
}
done_node_image() { stamp_matches "$(node_stamp)" "$(node_key)" && image_exists "$IPC_NODE_IMAGE"; }
do_node_image() {
  local old
  old=$(podman image inspect --format '{{.Id}}' "$IPC_NODE_IMAGE" 2>/dev/null || true)
  bash "$IPC_ROOT/scripts/lib/build-node-image.sh"
  stamp_write "$(node_stamp)" "$(node_key)"
  # The image it replaces is 1 GB of nothing once untagged.
  [[ -z $old ]] || podman rmi "$old" 2>/dev/null || true
}

# --- OpenKruise --------------------------------------------------------------
kruise_dir() { echo "$IPC_CACHE/kruise/$KRUISE_VERSION"; }
done_kruise() { image_exists "$IPC_KRUISE_IMAGE"; }
# Early builds: compiles that need nothing built before them, started in
# the background in the middle of a bootstrap that will need them. They take
# minutes of CPU; beside the steps after Kubernetes' compile they fill the
# time those leave a core idle (debootstrap, podman builds). A step waits
# for its early build (early_wait) and builds in the foreground if none ran
# or it failed (its log then shows why); early_stop ends them on exit.
declare -A early_pids=()
# early_start NAME COMMAND...: runs COMMAND in the background, its output in
# logs/NAME-early.log, its exit status in early/NAME.
early_start() {
  local name=$1
  shift
  mkdir -p "$IPC_CACHE/logs" "$IPC_CACHE/early"
  rm -f "$IPC_CACHE/early/$name"
  (
    "$@" && rc=0 || rc=$?
    echo "$rc" >"$IPC_CACHE/early/$name"
  ) >"$IPC_CACHE/logs/$name-early.log" 2>&1 &
  early_pids[$name]=$!
}
early_stop() {
  local pid
  for pid in "${early_pids[@]}"; do
    pkill -TERM -P "$pid" 2>/dev/null || true
    kill "$pid" 2>/dev/null || true
  done
}
# early_wait NAME: true once NAME's early build succeeded.
early_wait() {
  local name=$1 status=$IPC_CACHE/early/$1 pid=${early_pids[$1]:-}
  [[ -n $pid ]] || return 1
  echo "waiting for the early build of $name (log: $IPC_CACHE/logs/$name-early.log)"
  while [[ ! -f $status ]] && kill -0 "$pid" 2>/dev/null; do sleep 1; done
  [[ -f $status && $(cat "$status") == 0 ]]
}
kruise_binaries_built() { [[ -x $(kruise_dir)/bin/manager && -x $(kruise_dir)/bin/kruise-daemon ]]; }

do_kruise() {
  local out ctx
  out=$(kruise_dir)/bin
  early_wait kruise || kruise_binaries_built || build_kruise_binaries "$out"
  ctx=$(mktemp -d)
  cp "$out/manager" "$out/kruise-daemon" "$ctx/"
  mkdir "$ctx/log"
  # Upstream's image: both binaries, /log and /tmp writable by nobody (the
  # manager runs as 65534 and keeps its webhook certs under /tmp); no USER,
  # since the daemon runs as root to reach the CRI socket.
  printf '%s\n' "FROM $IPC_BASE_IMAGE" 'COPY manager /manager' 'COPY kruise-daemon /kruise-daemon' \
    'COPY --chown=65534:65534 log /log' 'ENTRYPOINT ["/manager"]' >"$ctx/Containerfile"
  build_image "$IPC_KRUISE_IMAGE" "$ctx"
  rm -rf "$ctx"
}

build_kruise_binaries() { # OUT_DIR
  local mod src
  mod=$(kruise_module_dir) || return 1
  src=$(kruise_dir)/src
  # kruise's go.mod replaces modules, so `go install` refuses it: build a
  # writable copy of the module.
  rm -rf "$src" && mkdir -p "$1"
  cp -r "$mod" "$src" && chmod -R u+w "$src" && cd "$src" || return 1
  CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local go build -trimpath -ldflags '-s -w' -o "$1/manager" .
  CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local go build -trimpath -ldflags '-s -w' -o "$1/kruise-daemon" ./cmd/daemon
  cd / && rm -rf "$src"
}

# kruise_module_dir: downloads kruise's module and checks it against the
# pinned hash (the checksum database has no entry for it here).
kruise_module_dir() {
  local json sum
  json=$(GONOSUMDB=github.com/openkruise/kruise go mod download -json "github.com/openkruise/kruise@$KRUISE_VERSION") ||
    { jq -r .Error <<<"$json"; echo "OpenKruise $KRUISE_VERSION: no such version of github.com/openkruise/kruise"; return 1; }
  sum=$(jq -r .Sum <<<"$json")
  if [[ $sum != "$KRUISE_MODULE_SUM" ]]; then
    echo "kruise module hash $sum differs from the pinned KRUISE_MODULE_SUM $KRUISE_MODULE_SUM"
    return 1
  fi
  jq -r .Dir <<<"$json"
}

# --- test workload images, one per WORKLOAD_VERSIONS entry -------------------
# PID 1 is pause; serve (images/serve) is the HTTP server and client some
# scenarios run instead.
workload_key() { echo "$(pause_key)-$(tree_hash images/workload)-$(tree_hash images/serve)"; }
mapfile -t workload_images < <(workload_tags "$IPC_WORKLOAD_IMAGE"; workload_tags "$IPC_SMOKE_IMAGE")
# The workload images again as one OCI image layout (a tag per content
# version, layers gzip-compressed): what the harness pushes to registries
# with its own OCI client, podman or not (src/environment/oci.rs).
workload_layout() { echo "$IPC_CACHE/images/layouts/workload"; }
workload_images_built() {
  local img
  stamp_matches workload "$(workload_key)" || return 1
  for img in "${workload_images[@]}"; do image_exists "$img" || return 1; done
}
# The image IDs a layout was written from (beside it, not in it).
workload_ids() { workload_tags "$IPC_WORKLOAD_IMAGE" | xargs podman image inspect --format '{{.Id}}'; }
done_workload() {
  workload_images_built && [[ -s $(workload_layout)/index.json ]] &&
    [[ $(cat "$(workload_layout).ids" 2>/dev/null) == "$(workload_ids)" ]]
}
write_workload_layout() {
  local out img
  out=$(workload_layout)
  rm -rf "$out.part" && mkdir -p "$(dirname "$out")"
  for img in $(workload_tags "$IPC_WORKLOAD_IMAGE"); do
    podman push -q "$img" "oci:$out.part:${img##*:}"
  done
  rm -rf "$out" && mv "$out.part" "$out"
  workload_ids >"$out.ids"
}
do_workload() {
  workload_images_built || build_workload_images
  write_workload_layout
}
build_workload_images() {
  local img ctx serve
  serve=$(mktemp -d)/serve
  (cd "$IPC_ROOT/images/serve" && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS='' go build -trimpath -ldflags '-s -w' -o "$serve" .)
  for img in "${workload_images[@]}"; do
    ctx=$(mktemp -d)
    cp "$(pause_bin)" "$ctx/pause"
    cp "$serve" "$ctx/serve"
    cp "$IPC_ROOT/images/workload/Containerfile" "$ctx/"
    # The baked file is what tells v1 from v2 inside a running container.
    printf '%s\n' "${img##*:}" >"$ctx/image-version"
    # --no-cache: buildah would reuse the first build for the other label.
    podman build --pull=never --no-cache -q --build-arg "BASE=$IPC_BASE_IMAGE" --build-arg "VERSION=${img##*:}" \
      --build-arg "PURPOSE=${img%:*}" -t "$img" "$ctx"
    rm -rf "$ctx"
  done
  rm -rf "$(dirname "$serve")"
  stamp_write workload "$(workload_key)"
  podman images --format '{{.Repository}}:{{.Tag}} {{.ID}}' | grep 'inplace-conformance/\(workload\|smoke\)'
}

# --- local OCI registry (CNCF distribution) ----------------------------------
# Built from upstream's entry point (cmd/registry/main.go) with only the
# storage drivers images/registry/config.yml can name: upstream's also links
# the Azure, GCS and S3 drivers and their SDKs, twice the compile (measured
# cold on 2 cores: 156 CPU-seconds for upstream's, 82 for this one).
registry_key() { echo "$REGISTRY_VERSION-$(tree_hash images/registry)-drivers-filesystem-inmemory"; }
done_registry() { stamp_matches registry "$(registry_key)" && image_exists "$IPC_REGISTRY_IMAGE"; }
registry_bin_dir() { echo "$IPC_CACHE/registry/$REGISTRY_VERSION"; }
build_registry_binary() {
  local out src
  out=$(registry_bin_dir)
  src=$out/src
  rm -rf "$src" && mkdir -p "$src" && cd "$src" || return 1
  cat >main.go <<'GO'
package main

import (
	"github.com/distribution/distribution/v3/registry"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
)

func main() { _ = registry.RootCmd.Execute() }
GO
  go mod init local/registry
  GOFLAGS=-mod=mod go get "github.com/distribution/distribution/v3/registry@$REGISTRY_VERSION"
  CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local go build -trimpath -ldflags '-s -w' -o "$out/registry" .
  "$out/registry" --version
}
do_registry() {
  local out ctx
  out=$(registry_bin_dir)
  early_wait registry || build_registry_binary
  ctx=$(mktemp -d)
  cp "$out/registry" "$IPC_ROOT/images/registry/config.yml" "$IPC_ROOT/images/registry/Containerfile" "$ctx/"
  podman build --pull=never -q --build-arg "BASE=$IPC_BASE_IMAGE" -t "$IPC_REGISTRY_IMAGE" "$ctx"
  rm -rf "$ctx"
  stamp_write registry "$(registry_key)"
}

# --- Sonobuoy: CLI and aggregator image (deploy/sonobuoy) ------------------
# Built from its module with one change: its aggregator advertises its pod
# IP as "[IP]:8080" for IPv6's sake, and Go since 1.24.8/1.25.2 (the fix of
# CVE-2025-47912) refuses an IPv4 address in brackets, so every plugin's
# worker built with this Go fails "parsing AggregatorURL ... invalid
# IP-literal" (upstream's image was built with an older Go). The patch
# brackets IPv6 addresses only, and the build stops if it does not apply.
sonobuoy_dir() { echo "$IPC_CACHE/sonobuoy/$SONOBUOY_VERSION"; }
sonobuoy_key() { echo "$SONOBUOY_VERSION-$(tree_hash images/sonobuoy)-advertise-ipv4"; }
done_sonobuoy() { [[ -x $(sonobuoy_dir)/sonobuoy ]] && stamp_matches sonobuoy "$(sonobuoy_key)" && image_exists "$IPC_SONOBUOY_IMAGE"; }
do_sonobuoy() {
  local out mod src ctx loader=pkg/config/loader.go
  out=$(sonobuoy_dir)
  mod=$(go mod download -json "github.com/vmware-tanzu/sonobuoy@$SONOBUOY_VERSION" | jq -r .Dir) || return 1
  src=$out/src
  rm -rf "$src" && mkdir -p "$out" && cp -r "$mod" "$src" && chmod -R u+w "$src" && cd "$src" || return 1
  sed -i 's|fmt.Sprintf("\[%v\]:%d", ip, cfg.Aggregation.BindPort)|fmt.Sprintf(map[bool]string{true: "[%v]:%d", false: "%v:%d"}[strings.Contains(ip, ":")], ip, cfg.Aggregation.BindPort)|' "$loader"
  grep -q 'strings.Contains(ip, ":")' "$loader" || { echo "the advertise-address patch no longer applies to $loader"; return 1; }
  CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local go build -trimpath -ldflags '-s -w' -o "$out/sonobuoy" .
  cd / && rm -rf "$src"
  "$out/sonobuoy" version --short
  ctx=$(mktemp -d)
  cp "$out/sonobuoy" "$IPC_ROOT/images/sonobuoy/Containerfile" "$ctx/"
  podman build --pull=never -q --build-arg "BASE=$IPC_BASE_IMAGE" -t "$IPC_SONOBUOY_IMAGE" "$ctx"
  rm -rf "$ctx"
  stamp_write sonobuoy "$(sonobuoy_key)"
}
