//! A rollout that must halt (`changes::halted_image`), conducted: wait
//! until a pod that took the change is stuck on it, watch the workload's
//! counts through the hold, send the old template back, wait for that
//! rollout. Recorded in `HoldRecord`; judged in `judge::assess::halt`.

use std::time::Duration;

use anyhow::Context;
use k8s_openapi::api::core::v1::Pod;

use super::session::{Session, settled};
use crate::changes::{Halt, Stuck};
use crate::model::record::{ChangeRecord, HoldRecord, WorkloadSample};
use crate::observe::wait;
use crate::workloads::Workload;

impl Session<'_> {
    /// A halting change, once accepted: waits until a pod that took it
    /// shows the stuck state, watches the workload's counts through the
    /// hold, sends the old template back and waits for that rollout.
    pub(crate) async fn hold_and_revert(
        &self,
        workload: &dyn Workload,
        halt: Halt,
        planned: &ChangeRecord,
        old_template: &serde_json::Value,
        old_uids: &[String],
    ) -> anyhow::Result<HoldRecord> {
        let base = workload.base();
        let container = planned.containers.first().cloned().unwrap_or_default();
        let image = planned.details.get("image").cloned().unwrap_or_default();
        let timeout = self.config.timeouts.update;
        let what = format!(
            "a pod of {} {} to take {image} and show {}",
            base.reference.kind,
            base.reference.name,
            halt.stuck.describe()
        );
        wait::until_watched(
            &self.ctx,
            &what,
            timeout,
            self.triggers(workload),
            || async {
                let pods = base.live_pods().await?;
                Ok(settled(halted(&pods, &container, &image, halt.stuck), ()))
            },
        )
        .await?;
        let halted_at = crate::now_rfc3339();
        self.lap("update");
        self.say(&format!(
            "rollout halted ({}); holding it {} s",
            halt.stuck.describe(),
            halt.hold.as_secs()
        ));
        let samples = hold_samples(base, halt.hold).await?;
        self.lap(crate::model::record::Lap::HOLD);
        let bad_revision = workload.revision().await?;
        let mut restore = |t: &mut serde_json::Value| {
            *t = old_template.clone();
            Ok(())
        };
        base.edit_template(&mut restore)
            .await
            .context("sending the old template back")?;
        let reverted_at = crate::now_rfc3339();
        let what = format!(
            "{} {} to finish going back from revision {}",
            base.reference.kind,
            base.reference.name,
            bad_revision.as_deref().unwrap_or("unset")
        );
        wait::until_watched(
            &self.ctx,
            &what,
            timeout,
            self.triggers(workload),
            || async {
                Ok(settled(
                    workload
                        .update_state(bad_revision.as_deref(), old_uids)
                        .await?,
                    (),
                ))
            },
        )
        .await?;
        Ok(HoldRecord {
            container,
            image,
            state: halt.stuck.describe().into(),
            wanted_ms: halt.hold.as_millis() as u64,
            halted_at,
            reverted_at,
            workload: samples,
        })
    }
}

/// Halted: some pod names `image` for `container` and shows `stuck`.
pub(crate) fn halted(
    pods: &[Pod],
    container: &str,
    image: &str,
    stuck: Stuck,
) -> Result<(), String> {
    let took: Vec<&Pod> = pods
        .iter()
        .filter(|p| {
            p.spec.as_ref().is_some_and(|s| {
                s.containers
                    .iter()
                    .any(|c| c.name == container && c.image.as_deref() == Some(image))
            })
        })
        .collect();
    let shown = took.iter().any(|p| {
        p.status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.name == container && stuck.shown_by(c)))
    });
    if shown {
        return Ok(());
    }
    let states: Vec<String> = took
        .iter()
        .map(|p| {
            let state = p
                .status
                .as_ref()
                .and_then(|s| s.container_statuses.as_ref())
                .and_then(|cs| cs.iter().find(|c| c.name == container))
                .map(describe_container_state)
                .unwrap_or_else(|| "no status".into());
            format!("{}: {state}", p.metadata.name.as_deref().unwrap_or("?"))
        })
        .collect();
    Err(format!(
        "{} of {} pod(s) took it{}{}",
        took.len(),
        pods.len(),
        if states.is_empty() { "" } else { ": " },
        states.join(", ")
    ))
}

fn describe_container_state(c: &k8s_openapi::api::core::v1::ContainerStatus) -> String {
    let state = c.state.as_ref();
    if let Some(w) = state.and_then(|s| s.waiting.as_ref()) {
        format!("waiting {}", w.reason.as_deref().unwrap_or(""))
    } else if state.and_then(|s| s.running.as_ref()).is_some() {
        format!("running, ready {}", c.ready)
    } else {
        "terminated".into()
    }
}

/// The workload's update counts, read every second through the hold and
/// kept as they change: what the hold is for is seeing them stay put.
async fn hold_samples(
    base: &crate::workloads::Base,
    hold: Duration,
) -> anyhow::Result<Vec<WorkloadSample>> {
    let deadline = tokio::time::Instant::now() + hold;
    let mut samples: Vec<WorkloadSample> = Vec::new();
    loop {
        let status = base.object().await?.data["status"].clone();
        let count = |field: &str| status[field].as_i64();
        let sample = WorkloadSample {
            at: crate::now_rfc3339(),
            updated_replicas: count("updatedReplicas"),
            updated_ready_replicas: count("updatedReadyReplicas"),
            ready_replicas: count("readyReplicas"),
        };
        let same = samples.last().is_some_and(|l| {
            (
                l.updated_replicas,
                l.updated_ready_replicas,
                l.ready_replicas,
            ) == (
                sample.updated_replicas,
                sample.updated_ready_replicas,
                sample.ready_replicas,
            )
        });
        if !same {
            samples.push(sample);
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(samples);
        }
        tokio::time::sleep_until(
            deadline.min(tokio::time::Instant::now() + Duration::from_secs(1)),
        )
        .await;
    }
}
