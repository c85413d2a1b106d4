//! A rollout that must halt (`changes::halted_image`), conducted: wait
//! until a pod that took the change is stuck on it, watch the workload's
//! counts through the hold, send the old template back, wait for that
//! rollout. Recorded in `HoldRecord`; judged in `judge::assess::halt`.

use std::time::Duration;

use anyhow::Context;
use k8s_openapi::api::core::v1::Pod;

use super::session::{Session, settled};
use crate::changes::{ActsOn, Change, Halt, Stuck};
use crate::model::record::{ChangeRecord, HoldRecord, WorkloadSample};
use crate::workloads::Workload;

impl Session<'_> {
    /// A halting change, once accepted: waits until a pod that took it
    /// shows the stuck state, watches the workload's counts through the
    /// hold, sends the old template back and waits for that rollout.
    pub(crate) async fn hold_and_revert(
        &self,
        workload: &dyn Workload,
        change: &dyn Change,
        planned: &ChangeRecord,
        old_template: &serde_json::Value,
        reached: &[Pod],
        old_uids: &[String],
    ) -> anyhow::Result<HoldRecord> {
        let halt: Halt = change.halts().context("the change does not halt")?;
        let base = workload.base();
        let container = planned.containers.first().cloned().unwrap_or_default();
        let image = planned.details.get("image").cloned().unwrap_or_default();
        let timeout = self.config.timeouts.update;
        let what = format!(
            "a pod of {} {} to {}show {}",
            base.reference.kind,
            base.reference.name,
            if halt.stuck.takes_the_image() {
                format!("take {image} and ")
            } else {
                String::new()
            },
            halt.stuck.describe()
        );
        let pods = self
            .until(workload, &what, timeout, || async {
                let pods = base.live_pods().await?;
                Ok(settled(halted(&pods, &container, &image, halt.stuck), pods))
            })
            .await?;
        let halted_at = crate::now_rfc3339();
        let conditions = resize_conditions(&pods, halt.stuck);
        self.lap("update");
        self.say(&format!(
            "rollout halted ({}); holding it {} s",
            halt.stuck.describe(),
            halt.hold.as_secs()
        ));
        let samples = hold_samples(base, halt.hold).await?;
        self.lap(crate::model::record::Lap::HOLD);
        let reverted_at = if change.acts_on() == ActsOn::Directly {
            self.revert_directly(workload, change, planned, reached)
                .await?
        } else {
            self.revert_template(workload, halt.stuck, old_template, old_uids)
                .await?
        };
        Ok(HoldRecord {
            container,
            image,
            state: halt.stuck.describe().into(),
            wanted_ms: halt.hold.as_millis() as u64,
            halted_at,
            reverted_at,
            workload: samples,
            conditions,
        })
    }
}

impl Session<'_> {
    /// A direct change put back (`Change::revert`), then awaited until
    /// `Change::done` says the pods are as they were; when it was put back.
    async fn revert_directly(
        &self,
        workload: &dyn Workload,
        change: &dyn Change,
        planned: &ChangeRecord,
        reached: &[Pod],
    ) -> anyhow::Result<String> {
        let target = self.target(reached);
        change
            .revert(&target, planned)
            .await
            .context("putting back what the change did")?;
        let reverted_at = crate::now_rfc3339();
        let what = format!("the pods back as they were before {}", planned.description);
        self.until(workload, &what, self.config.timeouts.update, || async {
            Ok(settled(
                change.done(&target, planned).await?.map(|_| ()),
                (),
            ))
        })
        .await?;
        Ok(reverted_at)
    }

    /// The old template sent back, then that rollout awaited (or, from the
    /// hook, the pods' release); when it was sent.
    async fn revert_template(
        &self,
        workload: &dyn Workload,
        stuck: Stuck,
        old_template: &serde_json::Value,
        old_uids: &[String],
    ) -> anyhow::Result<String> {
        let base = workload.base();
        let bad_revision = workload.revision().await?;
        let mut restore = |t: &mut serde_json::Value| {
            *t = old_template.clone();
            Ok(())
        };
        base.edit_template(&mut restore)
            .await
            .context("sending the old template back")?;
        let reverted_at = crate::now_rfc3339();
        if stuck == Stuck::AtHook {
            self.until_released(workload).await?;
            return Ok(reverted_at);
        }
        let what = format!(
            "{} {} to finish going back from revision {}",
            base.reference.kind,
            base.reference.name,
            bad_revision.as_deref().unwrap_or("unset")
        );
        self.until(workload, &what, self.config.timeouts.update, || async {
            Ok(settled(
                workload
                    .update_state(bad_revision.as_deref(), old_uids)
                    .await?,
                (),
            ))
        })
        .await?;
        Ok(reverted_at)
    }
}

/// Each pod's resize condition that shows `stuck` (none for the image and
/// hook states): the kubelet's own words for why the resize is undone.
fn resize_conditions(pods: &[Pod], stuck: Stuck) -> Vec<String> {
    pods.iter()
        .filter_map(|p| {
            let c = stuck.resize_condition(p)?;
            Some(format!(
                "{}: {} {}: {}",
                p.metadata.name.as_deref().unwrap_or("?"),
                c.type_,
                c.reason.as_deref().unwrap_or(""),
                c.message.as_deref().unwrap_or("")
            ))
        })
        .collect()
}

/// How long pods back in Normal after a rollback from the hook are given to
/// be ready again: whether they are is judged (`halt.released`), not
/// awaited to the update deadline.
const RELEASE_GRACE: Duration = Duration::from_secs(30);

impl Session<'_> {
    /// After a rollback from the hook: every pod back in lifecycle state
    /// Normal (a pod left in PreparingUpdate is OpenKruise issue 1156, and
    /// times out here), then up to `RELEASE_GRACE` for all to be ready.
    async fn until_released(&self, workload: &dyn Workload) -> anyhow::Result<()> {
        let base = workload.base();
        let state = crate::observe::timeline::lifecycle_state;
        let what = format!(
            "the pods of {} {} back in lifecycle state Normal after the rollback",
            base.reference.kind, base.reference.name
        );
        self.until(workload, &what, self.config.timeouts.update, || async {
            let pods = base.live_pods().await?;
            let waiting: Vec<String> = pods
                .iter()
                .filter(|p| state(p) != "Normal")
                .map(|p| format!("{} {}", p.metadata.name.as_deref().unwrap_or("?"), state(p)))
                .collect();
            Ok(settled(
                if waiting.is_empty() {
                    Ok(())
                } else {
                    Err(waiting.join(", "))
                },
                (),
            ))
        })
        .await?;
        let what = format!(
            "the pods of {} {} ready again after the rollback",
            base.reference.kind, base.reference.name
        );
        let ready = self
            .until(workload, &what, RELEASE_GRACE, || async {
                let pods = base.live_pods().await?;
                let unready: Vec<String> = pods
                    .iter()
                    .filter(|p| crate::workloads::pod_ready(p).is_err())
                    .map(|p| p.metadata.name.clone().unwrap_or_default())
                    .collect();
                Ok(settled(
                    if unready.is_empty() {
                        Ok(())
                    } else {
                        Err(format!("not ready: {}", unready.join(", ")))
                    },
                    (),
                ))
            })
            .await;
        if let Err(still) = ready {
            self.say(&format!(
                "not every pod ready {} s after the rollback (judged): {still}",
                RELEASE_GRACE.as_secs()
            ));
        }
        Ok(())
    }
}

/// Halted: some pod shows `stuck` (for the image states: names `image`
/// for `container` and its container shows it).
pub(crate) fn halted(
    pods: &[Pod],
    container: &str,
    image: &str,
    stuck: Stuck,
) -> Result<(), String> {
    if pods.iter().any(|p| stuck.shown_by(p, container, image)) {
        return Ok(());
    }
    if stuck.is_resize() {
        return Err(pods
            .iter()
            .map(|p| {
                let conditions: Vec<String> = p
                    .status
                    .iter()
                    .flat_map(|s| s.conditions.iter().flatten())
                    .filter(|c| c.type_.starts_with("PodResize"))
                    .map(|c| {
                        format!(
                            "{}={} {}: {}",
                            c.type_,
                            c.status,
                            c.reason.as_deref().unwrap_or(""),
                            c.message.as_deref().unwrap_or("")
                        )
                    })
                    .collect();
                format!(
                    "{}: {}",
                    p.metadata.name.as_deref().unwrap_or("?"),
                    if conditions.is_empty() {
                        "no resize condition".to_string()
                    } else {
                        conditions.join(", ")
                    }
                )
            })
            .collect::<Vec<_>>()
            .join("; "));
    }
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
            observed_generation: count("observedGeneration"),
            updated_replicas: count("updatedReplicas"),
            updated_ready_replicas: count("updatedReadyReplicas"),
            ready_replicas: count("readyReplicas"),
        };
        let same = samples.last().is_some_and(|l| {
            WorkloadSample {
                at: String::new(),
                ..l.clone()
            } == WorkloadSample {
                at: String::new(),
                ..sample.clone()
            }
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
