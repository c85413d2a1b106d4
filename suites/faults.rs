//! The opt-in faults profile (`cargo test --test faults`, or `run
//! --faults`): not part of the default `cargo test`, since each scenario
//! breaks a shared part of the cluster (kruise-manager, kruise-daemon, the
//! node's containerd) and must run with nothing beside it; the harness runs
//! each alone.

mod harness;

fn main() {
    harness::main(inplace_conformance::scenarios::catalog::faults_profile())
}
