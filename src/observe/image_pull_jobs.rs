//! OpenKruise's ImagePullJobs of the scenario's namespace: the jobs kruise
//! creates to pre-download a workload's new image before its in-place
//! update (`PreDownloadImageForInPlaceUpdate`), read as samples.

use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, ListParams};

use crate::model::record::ImagePullJobSample;

/// OpenKruise's ImagePullJob (apps.kruise.io/v1beta1, which kruise itself
/// writes since v1.9).
pub fn resource() -> ApiResource {
    ApiResource {
        group: "apps.kruise.io".into(),
        version: "v1beta1".into(),
        api_version: "apps.kruise.io/v1beta1".into(),
        kind: "ImagePullJob".into(),
        plural: "imagepulljobs".into(),
    }
}

/// Every ImagePullJob of the namespace, as read now.
pub async fn list(client: &Client, namespace: &str) -> anyhow::Result<Vec<ImagePullJobSample>> {
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource());
    let jobs = api.list(&ListParams::default()).await?;
    Ok(jobs.items.iter().map(sample).collect())
}

/// One job's identity and counts.
pub fn sample(job: &DynamicObject) -> ImagePullJobSample {
    let status = &job.data["status"];
    let count = |field: &str| status[field].as_i64().unwrap_or(0);
    let owner = job
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true))
        .map(|o| format!("{}/{}", o.kind, o.name))
        .unwrap_or_default();
    ImagePullJobSample {
        name: job.metadata.name.clone().unwrap_or_default(),
        image: job.data["spec"]["image"].as_str().unwrap_or("").into(),
        owner,
        created_at: job
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| t.0.to_string())
            .unwrap_or_default(),
        completion_time: status["completionTime"].as_str().map(str::to_string),
        desired: count("desired"),
        succeeded: count("succeeded"),
        failed: count("failed"),
        message: status["message"].as_str().unwrap_or("").into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_completed_job_reads_as_pulled_everywhere() {
        let job: DynamicObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "apps.kruise.io/v1beta1", "kind": "ImagePullJob",
            "metadata": {"name": "app-7d9-app", "namespace": "ns",
                "creationTimestamp": "2026-12-07T00:00:01Z",
                "ownerReferences": [{"apiVersion": "apps.kruise.io/v1beta1", "kind": "CloneSet",
                    "name": "app", "uid": "u", "controller": true}]},
            "spec": {"image": "reg/workload:v2"},
            "status": {"desired": 1, "succeeded": 1, "failed": 0,
                "completionTime": "2026-12-07T00:00:03Z"}
        }))
        .unwrap();
        let seen = sample(&job);
        assert_eq!(seen.owner, "CloneSet/app");
        assert_eq!(seen.image, "reg/workload:v2");
        assert!(seen.pulled_everywhere());
        let mut failed = seen.clone();
        failed.failed = 1;
        assert!(!failed.pulled_everywhere());
        let mut running = seen;
        running.completion_time = None;
        assert!(!running.pulled_everywhere());
    }
}
