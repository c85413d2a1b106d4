//! In-place scenarios: the seed's subject (one image update) and three
//! successive updates. Needs a cluster; see README / `scripts/cluster`.

use inplace_conformance::scenario::{self, ScenarioId};
use rstest::rstest;

#[rstest]
#[case::image_v1_to_v2(ScenarioId::InPlaceImage)]
#[case::three_successive_updates(ScenarioId::InPlaceSuccessive)]
#[tokio::test(flavor = "multi_thread")]
async fn cloneset_in_place(#[case] id: ScenarioId) {
    if let Err(err) = scenario::run(id).await {
        panic!("{err:#}");
    }
}
