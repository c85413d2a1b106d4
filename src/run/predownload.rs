//! An image change held back by the partition while OpenKruise
//! pre-downloads its image (`changes::conducted_image`, PRE_DOWNLOAD), conducted: wait
//! until an ImagePullJob for the new image has pulled it onto every node it
//! targets, then lower the partition to 0 and let the rollout run.
//! Recorded in `PreDownloadRecord`; judged in `judge::assess::predownload`.

use anyhow::Context;
use futures::StreamExt;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::runtime::watcher;
use serde_json::{Value, json};

use super::session::{Session, settled};
use crate::model::record::{ChangeRecord, ImagePullJobSample, PreDownloadRecord};
use crate::observe::image_pull_jobs;
use crate::workloads::Workload;

impl Session<'_> {
    /// A pre-downloaded change, once accepted: waits for the ImagePullJob
    /// of its image to complete, then lowers the workload's partition.
    pub(crate) async fn pre_download_and_release(
        &self,
        workload: &dyn Workload,
        planned: &ChangeRecord,
    ) -> anyhow::Result<PreDownloadRecord> {
        let base = workload.base();
        let (container, image) = planned
            .images
            .iter()
            .next()
            .map(|(c, i)| (c.clone(), i.reference.clone()))
            .context("a pre-downloaded change names no image")?;
        let what = format!(
            "an ImagePullJob of {} {} to pull {image} onto every node it targets",
            base.reference.kind, base.reference.name
        );
        let jobs_api: Api<DynamicObject> = Api::namespaced_with(
            self.client.clone(),
            &self.namespace,
            &image_pull_jobs::resource(),
        );
        let job_changes = watcher(jobs_api, watcher::Config::default()).map(|_| ());
        let triggers = futures::stream::select(self.triggers(workload), job_changes).boxed();
        let jobs = crate::observe::wait::until_watched(
            &self.ctx,
            &what,
            self.config.timeouts.update,
            triggers,
            || async {
                let jobs = image_pull_jobs::list(&self.client, &self.namespace).await?;
                Ok(settled(pulled(&jobs, &image), jobs))
            },
        )
        .await?;
        let completed_seen_at = crate::now_rfc3339();
        self.lap(crate::model::record::Lap::PRE_DOWNLOAD);
        let pointer = partition_pointer(&base.planned)?;
        let partition_before = base
            .object()
            .await?
            .data
            .pointer(pointer)
            .and_then(Value::as_i64);
        // Taken before the request: kruise may update a pod before the
        // answer comes back, and the hold is judged up to this moment.
        let released_at = crate::now_rfc3339();
        base.api()
            .patch(
                &base.reference.name,
                &PatchParams::default(),
                &Patch::Merge(merge_patch(pointer, json!(0))),
            )
            .await
            .context("lowering the partition")?;
        self.say(&format!(
            "image pre-downloaded by ImagePullJob {}; partition {} -> 0",
            jobs.iter()
                .find(|j| j.image == image)
                .map_or("?", |j| j.name.as_str()),
            partition_before.map_or("unset".into(), |p| p.to_string())
        ));
        Ok(PreDownloadRecord {
            container,
            image,
            jobs,
            completed_seen_at,
            released_at,
            partition_before,
            partition_after: 0,
        })
    }
}

/// Done: a job for `image` pulled it on every node it targeted. Otherwise
/// what the jobs show.
pub(crate) fn pulled(jobs: &[ImagePullJobSample], image: &str) -> Result<(), String> {
    let for_image: Vec<&ImagePullJobSample> = jobs.iter().filter(|j| j.image == image).collect();
    if for_image.iter().any(|j| j.pulled_everywhere()) {
        return Ok(());
    }
    if for_image.is_empty() {
        let others: Vec<&str> = jobs.iter().map(|j| j.name.as_str()).collect();
        return Err(format!(
            "no ImagePullJob for the image yet{}",
            if others.is_empty() {
                String::new()
            } else {
                format!(" (others: {})", others.join(", "))
            }
        ));
    }
    Err(for_image
        .iter()
        .map(|j| {
            format!(
                "{}: desired {}, succeeded {}, failed {}{}{}",
                j.name,
                j.desired,
                j.succeeded,
                j.failed,
                if j.completion_time.is_some() {
                    ", completed"
                } else {
                    ""
                },
                if j.message.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", j.message)
                }
            )
        })
        .collect::<Vec<_>>()
        .join("; "))
}

/// Where the workload's kind keeps its partition (the premise field that
/// names it).
fn partition_pointer(planned: &Value) -> anyhow::Result<&'static str> {
    let kind = crate::workloads::kind_of(planned).context("the workload's kind is not known")?;
    kind.premise_fields()
        .iter()
        .map(|f| f.pointer)
        .find(|p| p.ends_with("/partition"))
        .with_context(|| format!("{} has no partition to lower", kind.kind()))
}

/// A merge patch that sets the field at a JSON pointer.
fn merge_patch(pointer: &str, value: Value) -> Value {
    pointer
        .trim_start_matches('/')
        .split('/')
        .rev()
        .fold(value, |inner, key| json!({ key: inner }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(image: &str, desired: i64, succeeded: i64, done: bool) -> ImagePullJobSample {
        ImagePullJobSample {
            name: format!("job-{image}"),
            image: image.into(),
            desired,
            succeeded,
            completion_time: done.then(|| "2026-12-07T00:00:03Z".into()),
            ..Default::default()
        }
    }

    #[test]
    fn only_a_completed_job_for_the_image_lets_go() {
        assert!(pulled(&[], "v2").unwrap_err().contains("no ImagePullJob"));
        assert!(pulled(&[job("v1", 1, 1, true)], "v2").is_err());
        let running = pulled(&[job("v2", 1, 0, false)], "v2").unwrap_err();
        assert!(running.contains("desired 1, succeeded 0"), "{running}");
        assert!(pulled(&[job("v2", 1, 1, true)], "v2").is_ok());
    }

    #[test]
    fn the_partition_is_found_and_patched_where_the_kind_keeps_it() {
        let cloneset = json!({"apiVersion": "apps.kruise.io/v1alpha1", "kind": "CloneSet"});
        let pointer = partition_pointer(&cloneset).unwrap();
        assert_eq!(pointer, "/spec/updateStrategy/partition");
        assert_eq!(
            merge_patch(pointer, json!(0)),
            json!({"spec": {"updateStrategy": {"partition": 0}}})
        );
        let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment"});
        assert!(partition_pointer(&deployment).is_err());
    }
}
