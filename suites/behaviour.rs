//! The CloneSet behaviour matrix: every in-place change a CloneSet can
//! take, and what must not happen with each. Each case is a catalog entry.

use rstest::rstest;

#[rstest]
#[case::metadata_only("metadata-only")]
#[case::env_from_metadata("env-from-metadata")]
#[case::image_and_env_from_metadata("image-and-env")]
#[case::not_in_place_falls_back_to_recreate("fallback-recreate")]
#[case::in_place_only_refuses("inplace-only-refused")]
#[case::one_of_two_containers("sidecar-image")]
#[case::container_priority_order("container-priority")]
#[case::partition("partition")]
#[tokio::test(flavor = "multi_thread")]
async fn cloneset_behaviour(#[case] scenario: &str) {
    if let Err(err) = inplace_conformance::runner::run(scenario).await {
        panic!("{err:#}");
    }
}
