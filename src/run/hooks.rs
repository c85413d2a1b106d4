//! The harness as the hook controller of a fixture's in-place update hook
//! (`spec.lifecycle.inPlaceUpdate.labelsHandler`): kruise moves a pod that
//! carries the hook's labels to PreparingUpdate and leaves it there, old
//! container and all, until the labels are gone; after the update it waits
//! in Updated until they are back. For each pod in turn: seen waiting, left
//! waiting for the hold, labels removed, seen Updated, labels put back,
//! seen Normal. Recorded in `HookRecord`; judged in `judge::assess::hooks`.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams};

use super::session::Session;
use crate::model::record::{HookRecord, HookTurn};
use crate::observe::timeline::lifecycle_state;
use crate::observe::wait::Poll;
use crate::workloads::Workload;

/// How long a pod is left waiting at the hook before it is let go: long
/// enough to show it stays there (old container, not ready) and that no
/// other pod moves meanwhile.
pub const HOOK_HOLD: Duration = Duration::from_secs(10);

const PREPARING: &str = "PreparingUpdate";
const UPDATED: &str = "Updated";
const NORMAL: &str = "Normal";

impl Session<'_> {
    /// Answers the hook for every pod kruise stops at it, until the
    /// workload reports the update done.
    pub(crate) async fn answer_hooks(
        &self,
        workload: &dyn Workload,
        labels: &BTreeMap<String, String>,
        previous: Option<&str>,
        old_uids: &[String],
    ) -> anyhow::Result<HookRecord> {
        let base = workload.base();
        let mut turns: Vec<HookTurn> = Vec::new();
        let most = old_uids.len().max(1) * 2;
        loop {
            let Some(pod) = self
                .next_at_hook(workload, labels, previous, old_uids)
                .await?
            else {
                break;
            };
            anyhow::ensure!(
                turns.len() < most,
                "more hook turns ({}) than twice the pods: {pod} keeps coming back",
                turns.len() + 1
            );
            let prepared_at = crate::now_rfc3339();
            self.lap("update");
            self.say(&format!(
                "{pod} waits at the in-place hook; letting it go in {} s",
                HOOK_HOLD.as_secs()
            ));
            tokio::time::sleep(HOOK_HOLD).await;
            self.lap(crate::model::record::Lap::HOLD);
            let api: Api<Pod> = base.pods_api();
            // Taken before the request: kruise may act on it before the
            // answer comes back, and the hold is judged up to this moment.
            let released_at = crate::now_rfc3339();
            set_labels(&api, &pod, labels, false).await?;
            self.until_state(workload, &pod, UPDATED).await?;
            let updated_at = crate::now_rfc3339();
            set_labels(&api, &pod, labels, true).await?;
            let rehooked_at = crate::now_rfc3339();
            self.until_state(workload, &pod, NORMAL).await?;
            turns.push(HookTurn {
                pod,
                prepared_at,
                released_at,
                updated_at,
                rehooked_at,
                normal_at: crate::now_rfc3339(),
            });
        }
        Ok(HookRecord {
            labels: labels.clone(),
            hold_ms: HOOK_HOLD.as_millis() as u64,
            turns,
        })
    }

    /// The next pod waiting in PreparingUpdate with the hook's labels, or
    /// `None` once the update is done.
    async fn next_at_hook(
        &self,
        workload: &dyn Workload,
        labels: &BTreeMap<String, String>,
        previous: Option<&str>,
        old_uids: &[String],
    ) -> anyhow::Result<Option<String>> {
        let base = workload.base();
        let what = format!(
            "a pod of {} {} to wait at the in-place hook, or the update to finish",
            base.reference.kind, base.reference.name
        );
        let next = self
            .until(workload, &what, self.config.timeouts.update, || async {
                if workload.update_state(previous, old_uids).await?.is_ok() {
                    return Ok(Poll::Ready(None));
                }
                let pods = base.live_pods().await?;
                Ok(
                    match pods
                        .iter()
                        .find(|p| lifecycle_state(p) == PREPARING && hooked(p, labels))
                    {
                        Some(p) => Poll::Ready(p.metadata.name.clone()),
                        None => Poll::Pending(states(&pods)),
                    },
                )
            })
            .await?;
        Ok(next)
    }

    async fn until_state(
        &self,
        workload: &dyn Workload,
        pod: &str,
        state: &str,
    ) -> anyhow::Result<()> {
        let api: Api<Pod> = workload.base().pods_api();
        let what = format!("pod {pod} to reach lifecycle state {state}");
        self.until(workload, &what, self.config.timeouts.update, || async {
            let now = api.get(pod).await?;
            Ok(if lifecycle_state(&now) == state {
                Poll::Ready(())
            } else {
                Poll::Pending(format!("{pod}: {}", lifecycle_state(&now)))
            })
        })
        .await?;
        Ok(())
    }
}

fn hooked(pod: &Pod, labels: &BTreeMap<String, String>) -> bool {
    let have = pod.metadata.labels.as_ref();
    labels
        .iter()
        .any(|(k, v)| have.and_then(|l| l.get(k)) == Some(v))
}

/// "app-x Normal, app-y PreparingUpdate": the pods' lifecycle states.
fn states(pods: &[Pod]) -> String {
    pods.iter()
        .map(|p| {
            format!(
                "{} {}",
                p.metadata.name.as_deref().unwrap_or("?"),
                match lifecycle_state(p) {
                    "" => "(no state)",
                    s => s,
                }
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Removes (`on` false) or puts back the hook's labels on `pod`.
async fn set_labels(
    api: &Api<Pod>,
    pod: &str,
    labels: &BTreeMap<String, String>,
    on: bool,
) -> anyhow::Result<()> {
    let values: serde_json::Map<String, serde_json::Value> = labels
        .iter()
        .map(|(k, v)| {
            let value = if on {
                serde_json::Value::String(v.clone())
            } else {
                serde_json::Value::Null
            };
            (k.clone(), value)
        })
        .collect();
    let patch = serde_json::json!({"metadata": {"labels": values}});
    api.patch(pod, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .with_context(|| {
            format!(
                "{} the in-place hook's labels on {pod}",
                if on { "putting back" } else { "removing" }
            )
        })?;
    Ok(())
}
