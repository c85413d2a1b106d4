//! A Service in front of the workload, observed through a change: a watch
//! on its EndpointSlices records when each pod left and rejoined it, and
//! the client pod of the fixture (`serve -probe-service`, one request every
//! 100 ms) logs what every request got. Judged in `assess`: no request may
//! reach a stopping container, and the pod must leave before its container
//! stops.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, LogParams};
use kube::runtime::watcher;

use crate::model::record::{EndpointTransition, ProbeResult};
use crate::observe::watched::{Delivered, after_listing};

/// The scenario's Service and client pod (both from its fixture).
#[derive(Debug, Clone, Copy)]
pub struct Traffic {
    pub service: &'static str,
    pub client: &'static str,
}

/// A running watch of the Service's endpoints and of the pods' images.
pub struct EndpointWatch {
    tasks: Vec<tokio::task::JoinHandle<()>>,
    seen: Arc<Mutex<Vec<EndpointTransition>>>,
    specs: Arc<Mutex<Vec<EndpointTransition>>>,
    gates: Arc<Mutex<Vec<EndpointTransition>>>,
}

/// What one watch saw through a change.
pub struct Seen {
    pub endpoints: Vec<EndpointTransition>,
    pub spec_changes: Vec<EndpointTransition>,
    pub gate_changes: Vec<EndpointTransition>,
}

type Sink = Arc<Mutex<Vec<EndpointTransition>>>;

fn push(sink: &Sink, transition: EndpointTransition) {
    sink.lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(transition);
}

impl EndpointWatch {
    /// Starts both watches and returns once each has listed what exists:
    /// a change applied before that could be missed (the pod's gate would
    /// already read False in the first list).
    pub async fn start(
        client: &Client,
        namespace: &str,
        service: &str,
    ) -> anyhow::Result<EndpointWatch> {
        let (endpoints_listed, endpoints_ready) = tokio::sync::oneshot::channel::<()>();
        let (pods_listed, pods_ready) = tokio::sync::oneshot::channel::<()>();
        let watch = Self::spawn(client, namespace, service, endpoints_listed, pods_listed);
        let listed = async {
            let _ = endpoints_ready.await;
            let _ = pods_ready.await;
        };
        tokio::time::timeout(std::time::Duration::from_secs(30), listed)
            .await
            .map_err(|_| {
                anyhow::anyhow!("the EndpointSlice and pod watches did not list within 30s")
            })?;
        Ok(watch)
    }

    fn spawn(
        client: &Client,
        namespace: &str,
        service: &str,
        endpoints_listed: tokio::sync::oneshot::Sender<()>,
        pods_listed: tokio::sync::oneshot::Sender<()>,
    ) -> EndpointWatch {
        let api: Api<EndpointSlice> = Api::namespaced(client.clone(), namespace);
        let selector = format!("kubernetes.io/service-name={service}");
        let seen: Sink = Arc::new(Mutex::new(Vec::new()));
        let specs: Sink = Arc::new(Mutex::new(Vec::new()));
        let gates: Sink = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let endpoints = tokio::spawn(async move {
            let mut last: BTreeMap<String, bool> = BTreeMap::new();
            let config = watcher::Config::default().labels(&selector);
            let stream = after_listing(watcher(api, config), endpoints_listed);
            let mut stream = std::pin::pin!(stream);
            while let Some(seen) = stream.next().await {
                let Delivered::Applied(slice) = seen else {
                    continue;
                };
                let at = Timestamp::now().to_string();
                for (pod, ready) in endpoint_states(&slice) {
                    if last.insert(pod.clone(), ready) != Some(ready) {
                        let at = at.clone();
                        push(&sink, EndpointTransition { at, pod, ready });
                    }
                }
            }
        });
        let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
        let sink = specs.clone();
        let gate_sink = gates.clone();
        let images = tokio::spawn(async move {
            let mut last: BTreeMap<String, String> = BTreeMap::new();
            let mut last_gate: BTreeMap<String, bool> = BTreeMap::new();
            let stream = after_listing(watcher(pods, watcher::Config::default()), pods_listed);
            let mut stream = std::pin::pin!(stream);
            while let Some(seen) = stream.next().await {
                let Delivered::Applied(pod) = seen else {
                    continue;
                };
                let name = pod.metadata.name.clone().unwrap_or_default();
                let gate = crate::observe::kruise::pod_condition(
                    &pod,
                    crate::observe::kruise::INPLACE_UPDATE_READY,
                ) == Some("True");
                if last_gate
                    .insert(name.clone(), gate)
                    .is_some_and(|g| g != gate)
                {
                    let at = Timestamp::now().to_string();
                    let pod = name.clone();
                    push(
                        &gate_sink,
                        EndpointTransition {
                            at,
                            pod,
                            ready: gate,
                        },
                    );
                }
                let images = spec_images(&pod);
                let previous = last.insert(name.clone(), images.clone());
                if previous.is_some_and(|p| p != images) {
                    let at = Timestamp::now().to_string();
                    push(
                        &sink,
                        EndpointTransition {
                            at,
                            pod: name,
                            ready: false,
                        },
                    );
                }
            }
        });
        EndpointWatch {
            tasks: vec![endpoints, images],
            seen,
            specs,
            gates,
        }
    }

    /// Stops the watches; returns what they saw.
    pub fn stop(self) -> Seen {
        for task in &self.tasks {
            task.abort();
        }
        let take = |s: &Sink| std::mem::take(&mut *s.lock().unwrap_or_else(|p| p.into_inner()));
        Seen {
            endpoints: take(&self.seen),
            spec_changes: take(&self.specs),
            gate_changes: take(&self.gates),
        }
    }
}

/// "app=image,side=image" of a pod's spec.
fn spec_images(pod: &Pod) -> String {
    pod.spec
        .iter()
        .flat_map(|s| s.containers.iter())
        .map(|c| format!("{}={}", c.name, c.image.as_deref().unwrap_or("")))
        .collect::<Vec<_>>()
        .join(",")
}

/// (pod, ready) of every endpoint of a slice.
pub fn endpoint_states(slice: &EndpointSlice) -> Vec<(String, bool)> {
    slice
        .endpoints
        .iter()
        .filter_map(|e| {
            let pod = e.target_ref.as_ref()?.name.clone()?;
            let ready = e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(false);
            Some((pod, ready))
        })
        .collect()
}

/// The client's requests between `from` and `to`, from its log.
pub async fn client_requests(
    client: &Client,
    namespace: &str,
    pod: &str,
    from: Timestamp,
    to: Timestamp,
) -> anyhow::Result<Vec<ProbeResult>> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let log = pods.logs(pod, &LogParams::default()).await?;
    Ok(parse_requests(&log, from, to))
}

pub fn parse_requests(log: &str, from: Timestamp, to: Timestamp) -> Vec<ProbeResult> {
    log.lines()
        .filter_map(|l| serde_json::from_str::<ProbeResult>(l).ok())
        .filter(|r| {
            r.at.parse::<Timestamp>()
                .is_ok_and(|t| t >= from && t <= to)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_in_the_window_only() {
        let log = "\
{\"at\":\"2026-11-27T15:00:00.100Z\",\"ms\":2,\"status\":200,\"body\":\"serving v1 app-x\"}
not json
{\"at\":\"2026-11-27T15:00:01.100Z\",\"ms\":0,\"status\":0,\"error\":\"connection refused\"}
{\"at\":\"2026-11-27T15:00:02.100Z\",\"ms\":1,\"status\":503,\"body\":\"stopping v1 app-x\"}
";
        let from: Timestamp = "2026-11-27T15:00:01Z".parse().unwrap();
        let to: Timestamp = "2026-11-27T15:00:03Z".parse().unwrap();
        let requests = parse_requests(log, from, to);
        assert_eq!(requests.len(), 2);
        assert!(!requests[0].served());
        assert_eq!(requests[1].status, 503);
        assert!(!requests[1].served());
    }

    #[test]
    fn endpoint_readiness_by_pod() {
        let slice: EndpointSlice = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "app-abc"}, "addressType": "IPv4",
            "endpoints": [{"addresses": ["10.244.0.5"], "conditions": {"ready": false},
                "targetRef": {"kind": "Pod", "name": "app-x"}}]
        }))
        .unwrap();
        assert_eq!(endpoint_states(&slice), vec![("app-x".to_string(), false)]);
    }
}
