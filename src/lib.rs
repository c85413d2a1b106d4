//! End-to-end conformance suite: what survives an OpenKruise in-place update.
//!
//! Scenarios run against a real kind cluster (see `cluster`), record raw
//! observations (`observe`) and are judged afterwards against pure-data
//! expectations (`expect`, `assess`); `report` renders the comparison table
//! of the seed document and the claims C1..C13 from whatever was recorded.

pub mod assess;
pub mod cluster;
pub mod expect;
pub mod images;
pub mod kruise;
pub mod observe;
pub mod probe;
pub mod report;
pub mod scenario;
pub mod wait;
pub mod workload;

/// A short random suffix for names (namespaces, registry repositories).
pub fn short_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_string()
}

/// Current time as RFC 3339, the format every timestamp in the records uses.
pub fn now_rfc3339() -> String {
    k8s_openapi::jiff::Timestamp::now().to_string()
}
