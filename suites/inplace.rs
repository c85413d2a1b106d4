//! In-place scenarios: the seed's subject (one image update) and three
//! successive updates. Needs a cluster; see README / `scripts/cluster`.

use rstest::rstest;

#[rstest]
#[case::image_v1_to_v2("inplace-image")]
#[case::three_successive_updates("inplace-successive")]
#[tokio::test(flavor = "multi_thread")]
async fn cloneset_in_place(#[case] scenario: &str) {
    if let Err(err) = inplace_conformance::runner::run(scenario).await {
        panic!("{err:#}");
    }
}
