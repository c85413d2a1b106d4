//! OpenKruise's in-place update beyond CloneSet: Advanced StatefulSet (in
//! place and, beside it, ReCreate), Advanced DaemonSet, a
//! ContainerRecreateRequest, a SidecarSet sidecar upgrade, in-place CPU
//! resize (on the pod, and through the workload) and a graceful in-place
//! update behind a Service. Each case is a catalog entry.

use rstest::rstest;

#[rstest]
#[case::advanced_statefulset_in_place("asts-inplace")]
#[case::advanced_statefulset_recreate("asts-recreate")]
#[case::advanced_daemonset_in_place("ads-inplace")]
#[case::container_recreate_request("container-recreate")]
#[case::sidecarset_in_place_upgrade("sidecarset-upgrade")]
#[case::pod_resize_without_restart("pod-resize")]
#[case::pod_resize_with_restart("pod-resize-restart")]
#[case::workload_resize("workload-resize")]
#[case::graceful_in_place_behind_a_service("graceful-inplace")]
#[tokio::test(flavor = "multi_thread")]
async fn advanced_workloads(#[case] scenario: &str) {
    if let Err(err) = inplace_conformance::runner::run(scenario).await {
        panic!("{err:#}");
    }
}
