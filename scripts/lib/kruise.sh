# shellcheck shell=bash
# usage: source scripts/lib/kruise.sh   (after env.sh and common.sh; needs
# $name and $KUBECONFIG of the target cluster)
# Installs OpenKruise from its Go module's config/ through our overlay
# (kind-config/kruise-overlay) and waits until it can serve the suite.

kruise_ns=kruise-system
# shellcheck disable=SC2154 # $name is set by scripts/cluster

# render_kruise OUT_FILE: kustomize our overlay over the module's config/default.
render_kruise() {
  local mod overlay=$IPC_CACHE/clusters/$name/kruise-overlay json
  json=$(GONOSUMDB=github.com/openkruise/kruise go mod download -json "github.com/openkruise/kruise@$KRUISE_VERSION") ||
    die "cannot fetch the OpenKruise $KRUISE_VERSION module for its config/" "go must reach the Go module proxy"
  [[ $(jq -r .Sum <<<"$json") == "$KRUISE_MODULE_SUM" ]] || die "OpenKruise module hash differs from KRUISE_MODULE_SUM" "check scripts/versions.env"
  mod=$(jq -r .Dir <<<"$json")
  rm -rf "$overlay" && mkdir -p "$overlay"
  cp "$IPC_ROOT/kind-config/kruise-overlay/"{patches,daemon-args}.yaml "$overlay/"
  # A qualification profile's gates (IPC_KRUISE_GATES=A=true,B=false) go
  # after ours on the manager's flag: the last value of a gate wins.
  if [[ -n ${IPC_KRUISE_GATES:-} ]]; then
    [[ $IPC_KRUISE_GATES =~ ^[A-Za-z0-9]+=(true|false)(,[A-Za-z0-9]+=(true|false))*$ ]] ||
      die "IPC_KRUISE_GATES=$IPC_KRUISE_GATES is not a gate list" "write Gate=true,Other=false"
    sed -i "/--feature-gates=.*PodWebhook/ s/\$/,$IPC_KRUISE_GATES/" "$overlay/patches.yaml"
  fi
  # kustomize accepts only relative resource paths.
  cat >"$overlay/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $(realpath --relative-to="$overlay" "$mod/config/default")
images:
  - name: controller
    newName: ${IPC_KRUISE_IMAGE%:*}
    newTag: ${IPC_KRUISE_IMAGE##*:}
patches:
  - path: patches.yaml
  - path: daemon-args.yaml
    target: {kind: DaemonSet, name: kruise-daemon}
YAML
  kubectl kustomize "$overlay" >"$1" 2>"$overlay/kustomize.log" ||
    die "kustomize could not render OpenKruise: $(grep -v Warning "$overlay/kustomize.log" | tail -n 1)" "see $overlay/kustomize.log"
}

# installed_kruise: the OpenKruise version the cluster's manager runs (its
# image tag), or nothing.
installed_kruise() {
  local image
  image=$(kubectl -n kruise-system get deployment kruise-controller-manager \
    -o jsonpath='{.spec.template.spec.containers[0].image}' 2>/dev/null || true)
  [[ -n $image ]] && echo "${image##*:}"
  return 0
}

# refuse_other_kruise: a reused cluster keeps its OpenKruise: loading and
# applying another version would up- or downgrade it under whoever else
# uses the cluster. Called before anything is loaded into it.
refuse_other_kruise() {
  local installed
  installed=$(installed_kruise)
  if [[ -n $installed && $installed != "$KRUISE_VERSION" ]]; then
    die "cluster '$name' runs OpenKruise $installed, not the requested $KRUISE_VERSION" \
      "use another --name, or delete it first: scripts/cluster delete --name $name"
  fi
}

# The manager Deployment carries the digest of the manifests it was
# installed from, so a reused cluster can tell whether they changed.
install_digest_key=inplace-conformance/install-digest

install_kruise() {
  local start=$SECONDS dir=$IPC_CACHE/clusters/$name digest
  # A reused cluster's OpenKruise may have restarted long before this run:
  # only restarts from here on count (check_kruise_restarts).
  kruise_restarts_before=$(kruise_restarts)
  render_kruise "$dir/kruise.yaml"
  digest=$(sha256sum "$dir/kruise.yaml" | cut -c1-16)
  # Applying the same manifests again is not harmless: the CRDs' conversion
  # webhook goes back to the placeholder service until kruise-manager
  # patches it again, and a suite running meanwhile on the cluster gets
  # "service webhook-service not found" from every CloneSet read.
  if [[ $(installed_kruise) == "$KRUISE_VERSION" && $(installed_digest) == "$digest" ]]; then
    info "OpenKruise $KRUISE_VERSION already installed from the same manifests ($digest): not applied again"
    wait_kruise
    return 0
  fi
  do_load "$IPC_KRUISE_IMAGE"
  split_crds "$dir/kruise.yaml" "$dir/kruise-crds.yaml" "$dir/kruise-rest.yaml"
  info "installing OpenKruise $KRUISE_VERSION ($IPC_KRUISE_IMAGE)"
  # CRDs first and Established before the manager starts: a manager that
  # sets up its controllers while a CRD is still being served can exit.
  kruise_apply "$dir/kruise-crds.yaml"
  wait_kruise_crds
  kruise_apply "$dir/kruise-rest.yaml"
  wait_kruise
  kubectl -n "$kruise_ns" annotate --overwrite deployment kruise-controller-manager \
    "$install_digest_key=$digest" >/dev/null
  info "OpenKruise ready in $(elapsed "$start")"
}

# installed_digest: the digest install_kruise left on the manager, if any.
installed_digest() {
  kubectl -n "$kruise_ns" get deployment kruise-controller-manager \
    -o jsonpath="{.metadata.annotations.$install_digest_key}" 2>/dev/null || true
}

kruise_apply() { # FILE
  kubectl apply --server-side --force-conflicts -f "$1" >"$IPC_CACHE/logs/kruise-apply-$name.log" 2>&1 ||
    die "kubectl apply of OpenKruise failed: $(tail -n 1 "$IPC_CACHE/logs/kruise-apply-$name.log")" "see $IPC_CACHE/logs/kruise-apply-$name.log"
}

# split_crds ALL CRDS REST: the rendered install in two files.
split_crds() {
  python3 - "$@" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
crds = [d for d in docs if d.get("kind") == "CustomResourceDefinition"]
rest = [d for d in docs if d.get("kind") != "CustomResourceDefinition"]
yaml.safe_dump_all(crds, open(sys.argv[2], "w"), sort_keys=False)
yaml.safe_dump_all(rest, open(sys.argv[3], "w"), sort_keys=False)
PY
}

# kruise_timeout WHAT: diagnostics for a wait that ran out, then exit.
kruise_timeout() {
  info "timed out waiting for $1; last state:"
  kubectl -n "$kruise_ns" get deploy,ds,pods -o wide 2>&1 | sed 's/^/  | /' >&2 || true
  info "recent events in $kruise_ns:"
  kubectl -n "$kruise_ns" get events --sort-by=.lastTimestamp 2>&1 | tail -n 15 | sed 's/^/  | /' >&2 || true
  info "kruise-manager log tail:"
  kubectl -n "$kruise_ns" logs deploy/kruise-controller-manager --tail=15 2>&1 | sed 's/^/  | /' >&2 || true
  die "OpenKruise did not become ready ($1)" "scripts/cluster diagnose --name $name"
}

wait_kruise_crds() {
  local crds
  crds=$(kubectl get crd -o name | grep 'kruise\.io$' || true)
  [[ -n $crds ]] || die "no OpenKruise CRDs in the cluster" "scripts/cluster install-kruise --name $name"
  # shellcheck disable=SC2086
  kubectl wait --for=condition=Established --timeout="${timeout:-300}s" $crds >/dev/null || kruise_timeout "CRDs Established"
  info "  $(wc -w <<<"$crds") OpenKruise CRDs Established"
}

wait_kruise() {
  local t=${timeout:-300}s
  wait_kruise_crds
  kubectl -n "$kruise_ns" rollout status deploy/kruise-controller-manager --timeout="$t" >/dev/null ||
    kruise_timeout "kruise-controller-manager rollout"
  kubectl -n "$kruise_ns" wait --for=condition=Available --timeout="$t" deploy/kruise-controller-manager >/dev/null ||
    kruise_timeout "kruise-controller-manager Available"
  info "  kruise-controller-manager Available"
  wait_kruise_webhook || kruise_timeout "the kruise webhook to admit a CloneSet"
  info "  kruise webhook answers"
  kubectl -n "$kruise_ns" rollout status ds/kruise-daemon --timeout="$t" >/dev/null || kruise_timeout "kruise-daemon rollout"
  info "  kruise-daemon ready"
  check_kruise_restarts
}

# kruise_restarts: "POD RESTARTS" for each OpenKruise pod, now.
kruise_restarts() {
  kubectl -n "$kruise_ns" get pods -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.containerStatuses[0].restartCount}{"\n"}{end}' 2>/dev/null || true
}

# check_kruise_restarts: OpenKruise's pods must not restart while it is
# installed and waited for; one that did is reported with the reason.
# Restarts a reused cluster had before (kruise_restarts_before) are named,
# not failed: a long-lived cluster keeps them for good.
check_kruise_restarts() {
  local restarted pod
  restarted=$(awk 'NR == FNR { before[$1] = $2; next } $2 > (before[$1] + 0)' \
    <(printf '%s\n' "${kruise_restarts_before:-}") <(kruise_restarts))
  local earlier
  earlier=$(awk 'NR == FNR { before[$1] = $2; next } $2 > 0 && $2 <= (before[$1] + 0)' \
    <(printf '%s\n' "${kruise_restarts_before:-}") <(kruise_restarts) | tr '\n' ' ')
  [[ -z $earlier ]] || info "  OpenKruise restarts from before this install (not counted): $earlier"
  [[ -z $restarted ]] && return 0
  while read -r pod _; do
    info "$pod restarted; its previous container's last lines:"
    kubectl -n "$kruise_ns" logs "$pod" --previous --tail=15 2>&1 | sed 's/^/  | /' >&2 || true
  done <<<"$restarted"
  die "OpenKruise restarted during installation: $(tr '\n' ' ' <<<"$restarted")" "scripts/cluster diagnose --name $name"
}

# wait_kruise_webhook: a server-side dry run of a CloneSet passes through the
# mutating and validating webhooks, which proves certs, caBundle and service.
wait_kruise_webhook() {
  local deadline=$((SECONDS + ${timeout:-300})) out
  while ((SECONDS < deadline)); do
    if out=$(kubectl create --dry-run=server -o name -f - 2>&1 <<'YAML'
apiVersion: apps.kruise.io/v1alpha1
kind: CloneSet
metadata: {name: webhook-probe, namespace: default}
spec:
  replicas: 0
  selector: {matchLabels: {app: webhook-probe}}
  template:
    metadata: {labels: {app: webhook-probe}}
    spec: {containers: [{name: c, image: localhost/none:v0}]}
YAML
    ); then
      return 0
    fi
    sleep 2
  done
  info "last webhook answer: $out"
  return 1
}
