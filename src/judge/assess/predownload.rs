//! An image change held back by the partition while OpenKruise
//! pre-downloads its image (`changes::conducted_image`, PRE_DOWNLOAD, OpenKruise's
//! "Pre-download image for in-place update"): an ImagePullJob of the
//! workload pulled the image onto every node it targeted before any pod
//! took it, and once the partition was lowered each updated container
//! started from the image already on the node (the kubelet's Pulled event
//! says "already present on machine", no Pulling event). Read from the
//! step's `PreDownloadRecord`, pod timeline and events.

use super::*;
use crate::model::record::{PreDownloadRecord, took_image};

/// The kubelet's words for an image it did not have to pull.
const ALREADY_PRESENT: &str = "already present on machine";

/// The three checks of every pre-downloaded step.
pub(super) fn pre_downloaded(record: &ScenarioRecord) -> Vec<Check> {
    let mut checks = Vec::new();
    for step in &record.steps {
        let Some(pre) = &step.pre_download else {
            continue;
        };
        checks.push(pulled_first(record, step, pre));
        checks.push(held_back(record, step, pre));
        checks.push(started_without_pull(record, step, pre));
    }
    checks
}

fn before(stamp: &str, than: &str) -> bool {
    match (crate::time_key(stamp), crate::time_key(than)) {
        (Some(a), Some(b)) => a <= b,
        _ => false,
    }
}

fn pulled_first(record: &ScenarioRecord, step: &UpdateStep, pre: &PreDownloadRecord) -> Check {
    let owner = format!("{}/{}", record.workload.kind, record.workload.name);
    let jobs: Vec<String> = pre
        .jobs
        .iter()
        .map(|j| {
            format!(
                "{} (owner {}, image {}): desired {}, succeeded {}, failed {}, created {}, \
                 completed {}",
                j.name,
                if j.owner.is_empty() { "none" } else { &j.owner },
                j.image,
                j.desired,
                j.succeeded,
                j.failed,
                j.created_at,
                j.completion_time.as_deref().unwrap_or("not yet")
            )
        })
        .collect();
    let pass = pre.jobs.iter().any(|j| {
        j.image == pre.image
            && j.owner == owner
            && j.pulled_everywhere()
            && j.completion_time
                .as_deref()
                .is_some_and(|done| before(done, &pre.released_at))
    });
    check(
        record,
        &graceful::step_id("predownload.pulled-first", step),
        &format!("#{} image pre-downloaded before the update", step.index + 1),
        &[],
        format!(
            "an ImagePullJob of {owner} for {} completed on every node it targeted, none \
             failed, before the partition was lowered",
            pre.image
        ),
        format!(
            "{}; partition {} -> {} at {}",
            if jobs.is_empty() {
                "no ImagePullJob".to_string()
            } else {
                jobs.join("; ")
            },
            pre.partition_before
                .map_or("unset".into(), |p| p.to_string()),
            pre.partition_after,
            pre.released_at
        ),
        Verdict::from_bool(pass),
    )
}

fn held_back(record: &ScenarioRecord, step: &UpdateStep, pre: &PreDownloadRecord) -> Check {
    let early = took_image(&step.timeline, &pre.container, &pre.image, &pre.released_at);
    let watched: std::collections::BTreeSet<&str> = step
        .timeline
        .iter()
        .filter(|s| before(&s.at, &pre.released_at))
        .map(|s| s.pod.as_str())
        .collect();
    let pass = early.is_empty() && !watched.is_empty();
    check(
        record,
        &graceful::step_id("predownload.held-back", step),
        &format!(
            "#{} no pod updated while the image was pre-downloaded",
            step.index + 1
        ),
        &[],
        "no pod's spec names the new image before the partition is lowered",
        if watched.is_empty() {
            "no pod sample before the partition was lowered".to_string()
        } else if early.is_empty() {
            format!(
                "none of {} pod(s) took {} before {}",
                watched.len(),
                pre.image,
                pre.released_at
            )
        } else {
            format!(
                "took it before the partition was lowered: {}",
                early.into_iter().collect::<Vec<_>>().join(", ")
            )
        },
        Verdict::from_bool(pass),
    )
}

fn started_without_pull(
    record: &ScenarioRecord,
    step: &UpdateStep,
    pre: &PreDownloadRecord,
) -> Check {
    let quoted = format!("\"{}\"", pre.image);
    let quoted = quoted.as_str();
    let reverifies = kubernetes_at_least(&record.cluster.server_version, (1, 35));
    let mut seen = Vec::new();
    let mut problems = 0;
    let mut reverified: Vec<&str> = Vec::new();
    for pod in step.updated_pods() {
        let name = pod.after.name.as_str();
        let about = |reason: &'static str| {
            step.events_with_reason(reason)
                .filter(move |e| e.object_name == name && e.message.contains(quoted))
        };
        let pulling = about("Pulling").count();
        let present = about("Pulled")
            .filter(|e| e.message.contains(ALREADY_PRESENT))
            .count();
        let pulled = about("Pulled").count() - present;
        let node = pod.after.node.as_deref().unwrap_or("?");
        // One credential re-verification pull per node (the race).
        let reverify =
            reverifies && (pulling, pulled, present) == (1, 1, 0) && !reverified.contains(&node);
        if reverify {
            reverified.push(node);
        } else if pulling > 0 || pulled > 0 || present == 0 {
            problems += 1;
        }
        seen.push(format!(
            "{name} on {node}: {present} \"{ALREADY_PRESENT}\", {pulling} Pulling, {pulled} \
             pulled{}",
            if reverify {
                " (the kubelet re-verifying its credentials)"
            } else {
                ""
            }
        ));
    }
    let check = graceful::per_pod_check(
        record,
        step,
        "predownload.no-pull",
        "updated containers started without a pull",
        format!(
            "for each updated pod the kubelet's Pulled event for the image says \
             \"{ALREADY_PRESENT}\", and no Pulling event names it"
        ),
        seen,
        problems,
    );
    if reverified.is_empty() {
        check
    } else {
        check.met(&crate::scenarios::races::KUBELET_REVERIFIES)
    }
}

/// `v1.35.4` is at least (1, 35); an unreadable version is not (no race
/// is granted on a guess).
fn kubernetes_at_least(git_version: &str, minimum: (u32, u32)) -> bool {
    crate::kubernetes_minor(git_version).is_some_and(|version| version >= minimum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::record::samples::fixture;

    fn no_pull(record: &ScenarioRecord) -> Check {
        pre_downloaded(record)
            .into_iter()
            .find(|c| c.id.starts_with("predownload.no-pull"))
            .expect("a no-pull check")
    }

    /// A real Kubernetes v1.35.4 recording (4 nodes, containerd 2.2.9): the
    /// first updated pod on each of the two nodes pulled the pre-downloaded
    /// image again, the other two found it present. It passes naming the
    /// race; the same pulls on v1.34 fail, and so does a second pull on one
    /// node.
    #[test]
    fn the_kubelets_credential_reverification_is_told_on_1_35_only() {
        let raced = fixture("quirks/predownload-kubelet-reverifies.json");
        let check = no_pull(&raced);
        assert_eq!(check.verdict, Verdict::Pass, "{}", check.observed);
        assert_eq!(check.races, ["kubelet-reverifies-known-digest"]);

        let mut older = raced.clone();
        older.cluster.server_version = "v1.34.4".into();
        assert_eq!(no_pull(&older).verdict, Verdict::Fail);

        let mut twice = raced.clone();
        let step = &mut twice.steps[0];
        let pulled_node = step
            .pods
            .iter()
            .find(|p| {
                step.events
                    .iter()
                    .any(|e| e.reason == "Pulling" && e.object_name == p.after.name)
            })
            .and_then(|p| p.after.node.clone());
        for pod in &mut step.pods {
            pod.after.node = pulled_node.clone();
        }
        assert_eq!(no_pull(&twice).verdict, Verdict::Fail);

        let clean = no_pull(&fixture("image-predownload.json"));
        assert_eq!(clean.verdict, Verdict::Pass);
        assert!(clean.races.is_empty());
        assert!(kubernetes_at_least("v1.35.0", (1, 35)));
        assert!(!kubernetes_at_least("v1.34.4", (1, 35)));
        assert!(!kubernetes_at_least("", (1, 35)));
    }
}
