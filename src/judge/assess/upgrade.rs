//! OpenKruise upgraded under the scenario's live workload
//! (`faults::kruise_upgraded`): the cluster really moved to the target
//! release (manager and daemon replaced by its image), and nothing of the
//! workload changed from before the upgrade to a minute after it: pods,
//! containers, restart counts, revisions, sidecar hashes, no update event.
//! The change after it is judged by the rows, like any other.

use super::*;
use crate::model::record::UpgradeRecord;

pub(super) fn kruise_upgrade(record: &ScenarioRecord) -> Vec<Check> {
    let Some(upgrade) = record.faults.iter().find_map(|f| f.upgrade.as_ref()) else {
        return Vec::new();
    };
    vec![
        moved(record, upgrade),
        webhooks_kept(record, upgrade),
        left_alone(record, upgrade),
    ]
}

/// Every admission webhook OpenKruise served before the upgrade is served
/// after it (by name: a release may move a webhook's path, not drop it).
fn webhooks_kept(record: &ScenarioRecord, u: &UpgradeRecord) -> Check {
    let lost = u.webhooks_lost();
    let observed = if u.webhooks_before.is_empty() {
        "none recorded before the upgrade (not readable?)".to_string()
    } else if lost.is_empty() {
        format!(
            "{} before, {} after, none lost",
            u.webhooks_before.len(),
            u.webhooks_after.len()
        )
    } else {
        format!(
            "{} before, {} after; lost: {}",
            u.webhooks_before.len(),
            u.webhooks_after.len(),
            lost.join(", ")
        )
    };
    check(
        record,
        "upgrade.webhooks",
        "OpenKruise's admission webhooks kept",
        &[],
        "every mutating and validating webhook served before the upgrade served after it",
        observed,
        Verdict::from_bool(!u.webhooks_before.is_empty() && lost.is_empty()),
    )
}

fn moved(record: &ScenarioRecord, u: &UpgradeRecord) -> Check {
    let tag = format!(":{}", u.to);
    let stale: Vec<String> = u
        .components_after
        .iter()
        .filter(|(_, image)| !image.ends_with(&tag))
        .map(|(pod, image)| format!("{pod} runs {image}"))
        .collect();
    let replaced = u
        .components_before
        .keys()
        .all(|pod| !u.components_after.contains_key(pod));
    let pass = u.installed_after == u.to
        && u.from != u.to
        && stale.is_empty()
        && replaced
        && !u.components_after.is_empty();
    let mut observed = format!(
        "{} -> {} in {:.1}s; kruise-system pods {} -> {}",
        u.from,
        u.installed_after,
        u.upgrade_ms as f64 / 1000.0,
        names(&u.components_before),
        names(&u.components_after)
    );
    if !stale.is_empty() {
        observed.push_str(&format!("; not on {}: {}", u.to, stale.join(", ")));
    }
    check(
        record,
        "upgrade.moved",
        "OpenKruise upgraded in place",
        &[],
        format!(
            "kruise-manager and kruise-daemon replaced by {}'s image (CRDs, then manager and \
             daemon)",
            u.to
        ),
        observed,
        Verdict::from_bool(pass),
    )
}

fn left_alone(record: &ScenarioRecord, u: &UpgradeRecord) -> Check {
    let pass = u.changes.is_empty() && u.events.is_empty() && u.window_ms >= 60_000;
    let observed = if pass {
        format!(
            "nothing changed from before the upgrade to {}s after it; no update event",
            u.window_ms / 1000
        )
    } else {
        let mut seen: Vec<String> = u.changes.clone();
        seen.extend(u.events.iter().map(|e| format!("event {e}")));
        if u.window_ms < 60_000 {
            seen.push(format!("watched only {}s", u.window_ms / 1000));
        }
        seen.join("; ")
    };
    check(
        record,
        "upgrade.left-alone",
        "the live workload untouched by the upgrade",
        &[],
        "no pod UID, containerID, restartCount, revision label, sidecar hash or updateRevision \
         changes and no in-place, recreate, create, delete or kill event, from before the \
         upgrade to at least 60s after it",
        observed,
        Verdict::from_bool(pass),
    )
}

fn names(pods: &std::collections::BTreeMap<String, String>) -> String {
    if pods.is_empty() {
        return "none".into();
    }
    pods.keys().cloned().collect::<Vec<_>>().join(", ")
}
