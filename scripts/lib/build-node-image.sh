#!/usr/bin/env bash
# usage: build-node-image.sh   (environment from scripts/env.sh)
# Assembles the kind node image without a registry or Docker: a Debian rootfs
# laid out like kind's base image (kind's own base files, read from the kind
# Go module), the Kubernetes binaries, a bridge CNI, and every control-plane
# image preloaded into the node's containerd (Debian's package, or the
# version CONTAINERD_VERSION names, built by the bootstrap step containerd).
set -euo pipefail
[[ $# -eq 0 ]] || { echo "usage: $0" >&2; exit 2; }
# shellcheck source=scripts/lib/common.sh
source "$IPC_ROOT/scripts/lib/common.sh"
# shellcheck source=scripts/lib/steps.sh
source "$IPC_ROOT/scripts/lib/steps.sh"

root=$IPC_CACHE/rootfs/node-$K8S_VERSION
base_ref=localhost/kindest/node-base:$K8S_VERSION
builder=ipc-node-build-$$
kind_files=$(go_module_dir "sigs.k8s.io/kind@$KIND_VERSION")/images/base/files
mirror=$(debian_mirror)

cleanup() { podman rm -f "$builder" >/dev/null 2>&1 || true; rm -rf "$root"; }
trap cleanup EXIT

echo "== rootfs"
rm -rf "$root"
packages=systemd,dbus,runc,containernetworking-plugins,iptables,nftables,conntrack,iproute2,ethtool,util-linux,mount,kmod,libseccomp2,bash,ca-certificates,jq,procps,pigz,socat
[[ $CONTAINERD_VERSION == debian ]] && packages+=,containerd
debootstrap --variant=minbase --include="$packages" \
  "$DEBIAN_SUITE" "$root" "$mirror"

echo "== kind base files"
install -m0755 "$kind_files"/usr/local/bin/* "$root/usr/local/bin/"
mkdir -p "$root/kind/bin" "$root/kind/manifests" "$root/etc/kubernetes/manifests" \
  "$root/etc/systemd/system/kubelet.service.d" "$root/etc/containerd" "$root/etc/cni/net.d" "$root/opt/cni"
install -m0755 "$kind_files"/kind/bin/* "$root/kind/bin/"
install -m0644 "$kind_files/etc/crictl.yaml" "$root/etc/"
install -m0644 "$kind_files/etc/containerd/config.toml" "$root/etc/containerd/"
install -m0644 "$kind_files/etc/default/kubelet" "$root/etc/default/"
install -m0644 "$kind_files"/etc/sysctl.d/* "$root/etc/sysctl.d/"
install -m0644 "$kind_files"/etc/systemd/system/*.service "$kind_files/etc/systemd/system/kubelet.slice" "$root/etc/systemd/system/"
install -m0644 "$kind_files"/etc/systemd/system/kubelet.service.d/* "$root/etc/systemd/system/kubelet.service.d/"

echo "== systemd as a container init (what kind's base Dockerfile does)"
find "$root/lib/systemd/system/sysinit.target.wants/" -name systemd-tmpfiles-setup.service -delete
rm -f "$root"/lib/systemd/system/multi-user.target.wants/* "$root"/etc/systemd/system/*.wants/* \
  "$root"/lib/systemd/system/local-fs.target.wants/* "$root"/lib/systemd/system/sockets.target.wants/*udev* \
  "$root"/lib/systemd/system/sockets.target.wants/*initctl* "$root"/lib/systemd/system/basic.target.wants/*
echo ReadKMsg=no >>"$root/etc/systemd/journald.conf"
ln -sf /usr/lib/systemd/systemd "$root/sbin/init"
chroot "$root" systemctl enable kubelet.service containerd.service undo-mount-hacks.service
chroot "$root" systemctl mask systemd-binfmt.service

if [[ $CONTAINERD_VERSION == debian ]]; then
  echo "== containerd from Debian in kind's layout"
  ln -sf /usr/bin/containerd "$root/usr/local/bin/containerd"
else
  echo "== containerd $CONTAINERD_VERSION, built from its module, where kind's base image puts it"
  install -m0755 "$(containerd_bin_dir)"/{containerd,ctr,containerd-shim-runc-v2} "$root/usr/local/bin/"
fi
ln -sfn /usr/lib/cni "$root/opt/cni/bin"
chroot "$root" sh -c 'ctr oci spec' |
  jq '.hooks.createContainer[.hooks.createContainer|length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' |
  jq 'del(.process.rlimits)' >"$root/etc/containerd/cri-base.json"
sed -i "s#sandbox_image = .*#sandbox_image = \"$(kubeadm_image pause)\"#" "$root/etc/containerd/config.toml"

echo "== Kubernetes $K8S_VERSION"
install -m0755 "$IPC_K8S_BIN/kubeadm" "$IPC_K8S_BIN/kubelet" "$IPC_K8S_BIN/kubectl" "$root/usr/bin/"
printf '%s' "$K8S_VERSION" >"$root/kind/version"
# Single-node pod network: a bridge on the node, no CNI daemon to pull.
cat >"$root/etc/cni/net.d/10-bridge.conflist" <<'CNI'
{
  "cniVersion": "1.0.0",
  "name": "kind-bridge",
  "plugins": [
    {
      "type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
      "ipam": { "type": "host-local", "ranges": [[{ "subnet": "10.244.0.0/24" }]], "routes": [{ "dst": "0.0.0.0/0" }] }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
CNI
# kind applies this at creation instead of its legacy host-path class.
sed "s#@IMAGE@#$IPC_STORAGE_IMAGE#" "$IPC_ROOT/images/local-path/default-storage.yaml" >"$root/kind/manifests/default-storage.yaml"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*

echo "== import rootfs as $base_ref"
tar -C "$root" --numeric-owner -c . | podman import \
  --change 'ENTRYPOINT ["/usr/local/bin/entrypoint","/sbin/init"]' \
  --change 'STOPSIGNAL SIGRTMIN+3' --change 'ENV container=docker' - "$base_ref"
rm -rf "$root"

echo "== preload control-plane images into the node's containerd"
podman run -d --name "$builder" --privileged --entrypoint sleep "$base_ref" infinity
podman cp "$(k8s_images_tar)" "$builder:/root/images.tar"
podman cp "$(storage_tar)" "$builder:/root/storage.tar"
podman exec "$builder" bash -euc '
  mkdir -p /run/containerd
  containerd >/root/containerd.log 2>&1 &
  for _ in $(seq 60); do [ -S /run/containerd/containerd.sock ] && break; sleep 0.5; done
  ctr -n k8s.io images import --all-platforms --no-unpack --digests /root/images.tar
  ctr -n k8s.io images import --all-platforms --no-unpack --digests /root/storage.tar
  # Pinned images are never garbage-collected by the kubelet.
  for ref in $(ctr -n k8s.io images ls -q | grep -v "@sha256"); do
    ctr -n k8s.io images label "$ref" io.cri-containerd.pinned=pinned >/dev/null
  done
  ctr -n k8s.io images ls -q
  kill %1; wait || true
  rm -f /root/images.tar /root/storage.tar /root/containerd.log'
podman commit \
  --change 'ENTRYPOINT ["/usr/local/bin/entrypoint","/sbin/init"]' \
  --change 'STOPSIGNAL SIGRTMIN+3' --change 'ENV container=docker' "$builder" "$IPC_NODE_IMAGE"
podman rm -f "$builder" >/dev/null
podman rmi "$base_ref" >/dev/null
echo "built $IPC_NODE_IMAGE"
