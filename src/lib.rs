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
