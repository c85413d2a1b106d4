//! End-to-end conformance suite: what survives an OpenKruise in-place update.
//!
//! Scenarios are data (`catalog`): a fixture, a list of changes (`changes`)
//! applied to a workload (`workloads`), each observed on a real cluster
//! (`cluster`, `images`, `probe`, `wait`, `events`) and recorded
//! (`observe`); the records are judged afterwards against expectation
//! tables keyed by workload, strategy and change (`expect`, `assess`), and
//! `report` renders the seed's comparison table, the behaviour matrix and
//! the claims C1..C13 from whatever was recorded. `runner` ties it together
//! for the CLI and the cargo test suites.

pub mod assess;
pub mod batch;
pub mod catalog;
pub mod changes;
pub mod cleanup;
pub mod cluster;
pub mod config;
pub mod crosscell;
pub mod diagnostics;
pub mod events;
pub mod expect;
pub mod faults;
pub mod gate;
pub mod html;
pub mod images;
pub mod kruise;
pub mod observe;
pub mod pod_security;
pub mod probe;
pub mod qualify;
pub mod races;
pub mod repeat;
pub mod report;
pub mod requirements;
pub mod runner;
pub mod secrets;
pub mod tools;
pub mod traffic;
pub mod wait;
pub mod workloads;

/// A short random suffix for names (namespaces, registry repositories).
pub fn short_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_string()
}

/// Current time as RFC 3339, the format every timestamp in the records uses.
pub fn now_rfc3339() -> String {
    k8s_openapi::jiff::Timestamp::now().to_string()
}
