#!/usr/bin/env bash
# usage: smoke.sh CLUSTER_NAME   (run through `scripts/cluster smoke`)
# Proves the cluster is real: a CloneSet with InPlaceIfPossible whose image
# goes from workload v1 to v2 keeps its pod UID and ends with restartCount 1,
# a new containerID and a new imageID.
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: $0 CLUSTER_NAME" >&2; exit 2; }
# shellcheck source=scripts/lib/common.sh
source "$IPC_ROOT/scripts/lib/common.sh"
export KUBECONFIG=$IPC_CACHE/clusters/$1/kubeconfig
ns=smoke-$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')
start=$SECONDS

cleanup() { kubectl delete ns "$ns" --wait=false >/dev/null 2>&1 || true; }
trap cleanup EXIT
# Its own images (the workload's content, another label), kind-loaded: the
# suites' images reach the node only through their registry.
"$IPC_ROOT/scripts/cluster" load-smoke --name "$1" >/dev/null

fail() {
  info "smoke: FAIL: $1"
  kubectl -n "$ns" get cloneset,pods -o wide >&2 || true
  kubectl -n "$ns" get events --sort-by=.lastTimestamp >&2 || true
  exit 1
}

# pod_field JSONPATH: a field of the CloneSet's only pod.
pod_field() { kubectl -n "$ns" get pods -l app=smoke -o "jsonpath={.items[0]$1}"; }

# wait_updated GENERATION [PREVIOUS_REVISION]: done as the harness judges a
# CloneSet (observe/kruise.rs, CloneSetView::update_complete, after
# kruise's cloneset_status.go): the generation observed, a new
# updateRevision (after an update), updatedReplicas == updatedReadyReplicas
# == replicas, and the pod on that revision with InPlaceUpdateReady True
# and no in-place grace pending; never updatedReplicas alone.
wait_updated() {
  local deadline=$((SECONDS + 180)) s pod
  local fields='{.status.observedGeneration} {.status.updatedReplicas} {.status.updatedReadyReplicas} {.status.readyReplicas} {.status.updateRevision}'
  local pod_fields='{.items[0].metadata.labels.controller-revision-hash} {.items[0].status.conditions[?(@.type=="InPlaceUpdateReady")].status} {.items[0].metadata.annotations.apps\.kruise\.io/inplace-update-grace}'
  while ((SECONDS < deadline)); do
    s=$(kubectl -n "$ns" get cloneset smoke -o jsonpath="$fields")
    read -r og ur urr rr rev <<<"$s"
    pod=$(kubectl -n "$ns" get pods -l app=smoke -o jsonpath="$pod_fields")
    read -r pod_rev gate grace <<<"$pod"
    if [[ $og == "$1" && $ur == 1 && $urr == 1 && $rr == 1 && $rev != "${2:-}" ]] &&
      [[ $pod_rev == "$rev" && ${gate:-True} == True && -z ${grace:-} ]]; then
      revision=$rev
      return 0
    fi
    sleep 1
  done
  fail "CloneSet not updated and ready (observedGeneration updated updatedReady ready revision: $s; pod revision, InPlaceUpdateReady, grace: $pod)"
}

# The first two content versions (scripts/versions.env).
read -r from to _ <<<"$WORKLOAD_VERSIONS"
kubectl create ns "$ns" >/dev/null
kubectl -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: apps.kruise.io/v1alpha1
kind: CloneSet
metadata: {name: smoke}
spec:
  replicas: 1
  selector: {matchLabels: {app: smoke}}
  updateStrategy: {type: InPlaceIfPossible, maxSurge: 0}
  template:
    metadata: {labels: {app: smoke}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
        - name: app
          image: $IPC_SMOKE_IMAGE:$from
          imagePullPolicy: IfNotPresent
YAML
revision=""
wait_updated 1
uid1=$(pod_field .metadata.uid) cid1=$(pod_field '.status.containerStatuses[0].containerID')
img1=$(pod_field '.status.containerStatuses[0].imageID')
info "smoke: $from pod $(pod_field .metadata.name) uid=$uid1 restartCount=$(pod_field '.status.containerStatuses[0].restartCount')"

kubectl -n "$ns" patch cloneset smoke --type=json \
  -p "[{\"op\":\"replace\",\"path\":\"/spec/template/spec/containers/0/image\",\"value\":\"$IPC_SMOKE_IMAGE:$to\"}]" >/dev/null
wait_updated 2 "$revision"
uid2=$(pod_field .metadata.uid) cid2=$(pod_field '.status.containerStatuses[0].containerID')
img2=$(pod_field '.status.containerStatuses[0].imageID') rc=$(pod_field '.status.containerStatuses[0].restartCount')
inplace=$(kubectl -n "$ns" get events --field-selector reason=SuccessfulUpdatePodInPlace -o name | wc -l)
version=$(kubectl -n "$ns" exec "$(pod_field .metadata.name)" -c app -- cat /etc/inplace-conformance/image-version)

printf 'smoke: %-14s %-72s %s\n' "" before after >&2
printf 'smoke: %-14s %-72s %s\n' uid "$uid1" "$uid2" containerID "$cid1" "$cid2" \
  imageID "${img1##*@}" "${img2##*@}" restartCount 0 "$rc" image-version "$from" "$version" >&2
[[ $uid1 == "$uid2" ]] || fail "pod UID changed: the pod was recreated, not updated in place"
[[ $rc == 1 ]] || fail "restartCount is $rc, expected 1"
[[ $cid1 != "$cid2" ]] || fail "containerID did not change"
[[ $img1 != "$img2" ]] || fail "imageID did not change"
[[ $version == "$to" ]] || fail "the running container reports image version '$version', expected $to"
((inplace >= 1)) || fail "no SuccessfulUpdatePodInPlace event from kruise"
info "smoke: PASS in $(elapsed "$start"): same UID, restartCount 1, new containerID and imageID, $to file present"
