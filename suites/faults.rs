//! The opt-in faults profile (`cargo test --test faults`, or `run
//! --faults`): not part of the default `cargo test`, since each scenario
//! breaks a shared part of the cluster (kruise-manager, kruise-daemon, the
//! node's containerd) and must run with nothing beside it. One test runs
//! them in sequence and fails naming every scenario that failed.

#[tokio::test(flavor = "multi_thread")]
async fn faults_profile() {
    let mut failed = Vec::new();
    for scenario in inplace_conformance::catalog::faults_profile() {
        if let Err(err) = inplace_conformance::runner::run(scenario.name).await {
            failed.push(format!("{}: {err:#}", scenario.name));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
