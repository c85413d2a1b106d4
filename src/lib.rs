//! End-to-end conformance suite: what survives an OpenKruise in-place update.
//!
//! One route through the harness, in layers (each imports only the ones
//! above it in this list; `layers_never_import_upward` enforces it):
//! `model` (what a run writes), `environment` (where it runs), `observe`
//! (reading a live cluster), `workloads`, `changes` and `faults` (what is
//! deployed, changed and broken), `scenarios` (what to run and what must
//! hold), `judge` (pure functions of records), `report` (rendering), `run`
//! (running scenarios, the CLI's commands).

pub mod changes;
pub mod environment;
pub mod faults;
pub mod judge;
pub mod model;
pub mod observe;
pub mod report;
pub mod run;
pub mod scenarios;
pub mod workloads;

/// A short random suffix for names (namespaces, registry repositories).
pub fn short_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_string()
}

/// Current time as RFC 3339, the format every timestamp in the records uses.
pub fn now_rfc3339() -> String {
    k8s_openapi::jiff::Timestamp::now().to_string()
}
