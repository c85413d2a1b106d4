//! The standard strategies beside the in-place one, for the comparison
//! table (C10, C13): CloneSet ReCreate and Deployment RollingUpdate.

use inplace_conformance::scenario::{self, ScenarioId};
use rstest::rstest;

#[rstest]
#[case::cloneset_recreate(ScenarioId::CloneSetReCreate)]
#[case::deployment_rolling_update(ScenarioId::DeploymentRolling)]
#[tokio::test(flavor = "multi_thread")]
async fn standard_update(#[case] id: ScenarioId) {
    if let Err(err) = scenario::run(id).await {
        panic!("{err:#}");
    }
}
