//! The standard strategies beside the in-place one, for the comparison
//! table (C10, C13): CloneSet ReCreate and Deployment RollingUpdate.

use rstest::rstest;

#[rstest]
#[case::cloneset_recreate("cloneset-recreate")]
#[case::deployment_rolling_update("deployment-rolling")]
#[tokio::test(flavor = "multi_thread")]
async fn standard_update(#[case] scenario: &str) {
    if let Err(err) = inplace_conformance::runner::run(scenario).await {
        panic!("{err:#}");
    }
}
