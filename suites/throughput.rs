//! C12: memory vs disk emptyDir write throughput in one pod. A binary of
//! its own so that no other scenario runs beside the measurement.

use rstest::rstest;

#[rstest]
#[tokio::test(flavor = "multi_thread")]
async fn emptydir_memory_vs_disk() {
    if let Err(err) = inplace_conformance::runner::run("emptydir-throughput").await {
        panic!("{err:#}");
    }
}
