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

/// An RFC 3339 stamp as a time, to compare, sort or pick the latest by:
/// text order is not time order once offsets or fraction lengths differ
/// (`...00.5Z` sorts before `...00Z`). An empty or unparsable stamp is
/// `None`, which sorts before every time.
pub fn time_key(stamp: &str) -> Option<k8s_openapi::jiff::Timestamp> {
    stamp.parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn stamps_compare_as_times_not_text() {
        let (half, whole) = ("2026-01-01T00:00:00.5Z", "2026-01-01T00:00:00Z");
        assert!(half < whole, "as text");
        assert!(super::time_key(half) > super::time_key(whole));
        let (utc, ahead) = ("2026-01-01T10:30:00Z", "2026-01-01T11:00:00+01:00");
        assert!(utc < ahead, "as text");
        assert!(super::time_key(utc) > super::time_key(ahead));
        assert_eq!(
            super::time_key("2026-01-01T11:30:00+01:00"),
            super::time_key(utc)
        );
        for unknown in ["", "yesterday"] {
            assert_eq!(super::time_key(unknown), None);
            assert!(super::time_key(unknown) < super::time_key(whole));
        }
        let mut stamps = vec![whole, "", half, ahead];
        stamps.sort_by_key(|s| super::time_key(s));
        assert_eq!(stamps, vec!["", whole, half, ahead]);
    }
}
