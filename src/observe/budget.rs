//! The PodUnavailableBudgets of the scenario's namespace through one
//! change: each status kruise publishes (how many pods may still become
//! unavailable), as a watch delivers it, stamped with its arrival time.
//! Recorded raw; the judge reads the budget going to 0 and back.

use std::sync::{Arc, Mutex};

use futures::StreamExt;
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::runtime::watcher;

use crate::model::record::BudgetSample;
use crate::observe::watched::{Delivered, after_listing};

/// OpenKruise's PodUnavailableBudget (policy.kruise.io/v1alpha1).
pub fn resource() -> ApiResource {
    ApiResource {
        group: "policy.kruise.io".into(),
        version: "v1alpha1".into(),
        api_version: "policy.kruise.io/v1alpha1".into(),
        kind: "PodUnavailableBudget".into(),
        plural: "podunavailablebudgets".into(),
    }
}

/// A budget watch running through one change.
pub struct BudgetWatch {
    task: tokio::task::JoinHandle<()>,
    samples: Arc<Mutex<Vec<BudgetSample>>>,
}

impl BudgetWatch {
    /// Starts watching and returns once the watch has listed the budgets.
    pub async fn start(client: &Client, namespace: &str) -> anyhow::Result<BudgetWatch> {
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource());
        let samples: Arc<Mutex<Vec<BudgetSample>>> = Arc::default();
        let sink = samples.clone();
        let (listed, ready) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let stream = after_listing(watcher(api, watcher::Config::default()), listed);
            let mut stream = std::pin::pin!(stream);
            while let Some(seen) = stream.next().await {
                let Delivered::Applied(object) = seen else {
                    continue;
                };
                let sample = sample(&object);
                let mut samples = sink.lock().unwrap_or_else(|p| p.into_inner());
                // Only what changed: the status is rewritten with the same
                // counts on every pod event.
                if samples
                    .iter()
                    .rev()
                    .find(|s| s.name == sample.name)
                    .is_some_and(|last| last.same_counts(&sample))
                {
                    continue;
                }
                samples.push(sample);
            }
        });
        tokio::time::timeout(std::time::Duration::from_secs(30), ready)
            .await
            .map_err(|_| anyhow::anyhow!("the budget watch did not list within 30s"))?
            .map_err(|_| anyhow::anyhow!("the budget watch ended before it listed"))?;
        Ok(BudgetWatch { task, samples })
    }

    /// Keeps watching until every budget allows `max` unavailable pods
    /// again, or `timeout` passes: kruise keeps an in-place-updated pod
    /// counted as unavailable for 10 s after admitting its update
    /// (`UpdatedDelayCheckTime`, "in case of informer cache latency"), so
    /// the budget comes back a few seconds after the update is done. What
    /// was seen is judged, not this wait.
    pub async fn until_given_back(&self, max: i64, timeout: std::time::Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        while tokio::time::Instant::now() < deadline && !self.given_back(max) {
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    }

    fn given_back(&self, max: i64) -> bool {
        let samples = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        let mut last: std::collections::BTreeMap<&str, Option<i64>> = Default::default();
        for s in samples.iter() {
            last.insert(&s.name, s.unavailable_allowed);
        }
        !last.is_empty() && last.values().all(|v| *v == Some(max))
    }

    /// Stops the watch and returns what it saw, in arrival order.
    pub fn stop(self) -> Vec<BudgetSample> {
        self.task.abort();
        std::mem::take(&mut *self.samples.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// The counts of one budget's status, now.
pub fn sample(object: &DynamicObject) -> BudgetSample {
    let status = &object.data["status"];
    let count = |field: &str| status[field].as_i64();
    BudgetSample {
        at: crate::now_rfc3339(),
        name: object.metadata.name.clone().unwrap_or_default(),
        unavailable_allowed: count("unavailableAllowed"),
        current_available: count("currentAvailable"),
        desired_available: count("desiredAvailable"),
        total_replicas: count("totalReplicas"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_status_is_read_into_its_counts() {
        let object: DynamicObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "policy.kruise.io/v1alpha1", "kind": "PodUnavailableBudget",
            "metadata": {"name": "app"},
            "status": {"unavailableAllowed": 0, "currentAvailable": 3, "desiredAvailable": 3,
                       "totalReplicas": 4}
        }))
        .unwrap();
        let s = sample(&object);
        assert_eq!(s.name, "app");
        assert_eq!(s.unavailable_allowed, Some(0));
        assert_eq!((s.current_available, s.total_replicas), (Some(3), Some(4)));
        let mut later = s.clone();
        later.at = "later".into();
        assert!(s.same_counts(&later));
        later.unavailable_allowed = Some(1);
        assert!(!s.same_counts(&later));
    }
}
