//! The opt-in `faults` profile: a fault injected at a chosen point of an
//! in-place update, one file per fault. The scenario is otherwise an
//! ordinary one (same fixture, change and expectations), so it either
//! converges and passes with the fault in its record, or fails with a
//! message that names the fault; every wait keeps its deadline.

mod component_killed;
mod containerd_restarted;
pub mod kruise_upgraded;

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use kube::Client;

pub use component_killed::{ComponentKilled, DAEMON_RESTARTED, MANAGER_KILLED};
pub use containerd_restarted::ContainerdRestarted;
pub use kruise_upgraded::{KRUISE_UPGRADED, KruiseUpgraded};

use crate::model::record::FaultRecord;

/// Where in the first change a fault lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultPoint {
    /// After the markers are written and the pods snapshotted, before the
    /// change is applied.
    BeforeChange,
    /// Right after the change is applied, while the update is under way.
    DuringUpdate,
}

impl FaultPoint {
    pub fn describe(self) -> &'static str {
        match self {
            FaultPoint::BeforeChange => "after the marker write, before the update",
            FaultPoint::DuringUpdate => "right after the update was triggered",
        }
    }
}

/// What a fault may touch.
pub struct FaultContext<'a> {
    pub client: &'a Client,
    /// The scenario's namespace (its events go into a timeout's message).
    pub namespace: &'a str,
    pub repo_root: &'a Path,
    /// A node the suite may run commands on (faults that act on a node
    /// need one).
    pub node: Option<&'a dyn crate::environment::Node>,
    /// The scenario's label, for progress lines.
    pub label: &'a str,
    /// How long the fault's recovery may take.
    pub deadline: Duration,
    /// The kind cluster's name, when this machine manages it.
    pub cluster: Option<&'a str>,
    /// The OpenKruise release an upgrade moves to (`kruise-upgraded`).
    pub upgrade_to: Option<&'a crate::model::cell::KruiseRelease>,
}

#[async_trait]
pub trait Fault: Sync + std::fmt::Debug {
    fn name(&self) -> &'static str;
    fn point(&self) -> FaultPoint;
    /// The opt-in profile that runs it: `faults`, or `upgrade`.
    fn profile(&self) -> &'static str {
        "faults"
    }
    /// Runs with nothing beside it (a fault would disturb the others); an
    /// upgrade is shared by the scenarios of its profile, run at once.
    fn alone(&self) -> bool {
        true
    }
    /// Why the cluster cannot take this fault, if it cannot (UNSUPPORTED).
    fn unsupported(&self, node_access: bool) -> Option<String> {
        let _ = node_access;
        None
    }
    /// What the identity running the fault must be allowed beyond the
    /// scenario's own namespace (rbac/faults.yaml grants it to the suite's
    /// account); a run without it records the scenario UNSUPPORTED.
    fn needs(&self) -> Vec<crate::model::permission::Permission> {
        Vec::new()
    }
    /// Injects the fault, waits for its own recovery (not the update's),
    /// and says what happened.
    async fn inject(&self, ctx: &FaultContext<'_>) -> anyhow::Result<FaultRecord>;
}

/// A record with the common fields filled in.
fn record(
    fault: &dyn Fault,
    action: String,
    evidence: String,
    recovered: Option<Duration>,
) -> FaultRecord {
    FaultRecord {
        fault: fault.name().to_string(),
        point: fault.point().describe().to_string(),
        injected_at: crate::now_rfc3339(),
        action,
        evidence,
        recovered_after_ms: recovered.map(|d| d.as_millis() as u64),
        upgrade: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_points_say_where_the_fault_lands() {
        assert!(
            FaultPoint::BeforeChange
                .describe()
                .contains("before the update")
        );
        assert!(FaultPoint::DuringUpdate.describe().contains("triggered"));
        let r = record(
            &MANAGER_KILLED,
            "a".into(),
            "b".into(),
            Some(Duration::from_millis(1500)),
        );
        assert_eq!(
            (r.fault.as_str(), r.recovered_after_ms),
            ("kruise-manager-killed", Some(1500))
        );
    }
}
