//! OpenKruise upgraded under live workloads (the opt-in `upgrade` profile;
//! qualify's cells with `upgrade_from`): every scenario of the profile
//! deploys its workload and writes its markers on the old version, then
//! arrives at a rendezvous; the last to arrive moves the cluster's
//! OpenKruise to the target version the way its docs say
//! (`scripts/cluster upgrade-kruise`: the CRDs first and Established, then
//! manager and daemon); then each watches its own namespace for the quiet
//! window. Nothing of its workload may change from before the upgrade to
//! the window's end: pod UIDs, containers, restart counts, revision labels,
//! sidecar hashes, the workload's updateRevision, and no update events. The
//! scenario's change then runs through the new version.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use kube::runtime::watcher;

use super::{Fault, FaultContext, FaultPoint};
use crate::model::cell::KruiseRelease;
use crate::model::record::{FaultRecord, UpgradeRecord};

#[derive(Debug)]
pub struct KruiseUpgraded;

pub const KRUISE_UPGRADED: KruiseUpgraded = KruiseUpgraded;

/// The opt-in profile of the scenarios that meet at the upgrade.
pub const PROFILE: &str = "upgrade";

/// How long after the upgrade each scenario's namespace is watched.
pub const UPGRADE_WINDOW: Duration = Duration::from_secs(60);

/// Events that mean a pod was updated, recreated, killed or replaced.
const UPDATE_EVENTS: &[&str] = &[
    "SuccessfulUpdatePodInPlace",
    "SuccessfulUpdatePodReCreate",
    "SuccessfulCreate",
    "SuccessfulDelete",
    "Killing",
];

/// Pod labels and annotations that say which revision a pod is on.
const REVISION_KEYS: &[&str] = &[
    "controller-revision-hash",
    "pod-template-generation",
    "apps.kruise.io/inplace-update-state",
    "kruise.io/sidecarset-hash",
];

#[async_trait]
impl Fault for KruiseUpgraded {
    fn name(&self) -> &'static str {
        "kruise-upgraded"
    }

    fn point(&self) -> FaultPoint {
        FaultPoint::BeforeChange
    }

    fn profile(&self) -> &'static str {
        PROFILE
    }

    fn alone(&self) -> bool {
        false
    }

    fn unsupported(&self, node_access: bool) -> Option<String> {
        (!node_access).then(|| {
            "upgrading OpenKruise needs a kind cluster of this machine (scripts/cluster \
             upgrade-kruise loads the new image into its nodes)"
                .to_string()
        })
    }

    async fn inject(&self, ctx: &FaultContext<'_>) -> anyhow::Result<FaultRecord> {
        let to = ctx.upgrade_to.ok_or_else(|| {
            anyhow::anyhow!(
                "no OpenKruise version to upgrade to; hint: qualify a cell whose profile has \
                 upgrade_from, or run --kruise-upgrade-to VERSION"
            )
        })?;
        let cluster = ctx
            .cluster
            .ok_or_else(|| anyhow::anyhow!("no kind cluster name to upgrade"))?;
        let from = crate::observe::kruise::installed_version(ctx.client)
            .await
            .unwrap_or_else(|| "unknown".into());
        anyhow::ensure!(
            from != to.version,
            "the cluster already runs OpenKruise {from}, the version to upgrade to; hint: install \
             another version first (qualify's upgrade_from)"
        );
        let before = namespace_state(ctx.client, ctx.namespace).await?;
        let components_before = component_images(ctx.client).await;
        let webhooks_before = webhooks(ctx.client).await;
        let arrived_at = crate::now_rfc3339();
        let upgrade = rendezvous(ctx, cluster, to).await?;
        let window = watch_window(ctx, &before, UPGRADE_WINDOW).await?;
        let mut changes = window;
        let after = namespace_state(ctx.client, ctx.namespace).await?;
        changes.extend(differences(&before, &after));
        changes.sort();
        changes.dedup();
        let events = update_events(ctx.client, ctx.namespace, &arrived_at).await?;
        let components_after = component_images(ctx.client).await;
        let webhooks_after = webhooks(ctx.client).await;
        let now = crate::observe::kruise::installed_version(ctx.client).await;
        let record = UpgradeRecord {
            from: from.clone(),
            to: to.version.clone(),
            installed_after: now.unwrap_or_default(),
            arrived_at,
            started_at: upgrade.started_at.clone(),
            done_at: upgrade.done_at.clone(),
            upgrade_ms: upgrade.took_ms,
            window_ms: UPGRADE_WINDOW.as_millis() as u64,
            changes,
            events,
            components_before,
            components_after,
            webhooks_before,
            webhooks_after,
        };
        let evidence = format!(
            "OpenKruise {} -> {} in {:.1}s; {} change(s) and {} update event(s) in the \
             namespace from before the upgrade to {} s after it",
            record.from,
            record.installed_after,
            record.upgrade_ms as f64 / 1000.0,
            record.changes.len(),
            record.events.len(),
            UPGRADE_WINDOW.as_secs()
        );
        let replaced: Vec<&str> = record
            .components_before
            .keys()
            .map(String::as_str)
            .collect();
        let mut fault = super::record(
            self,
            format!(
                "scripts/cluster upgrade-kruise to {} (CRDs, then manager and daemon), replacing {}",
                to.version,
                replaced.join(", ")
            ),
            evidence,
            Some(Duration::from_millis(record.upgrade_ms)),
        );
        fault.upgrade = Some(record);
        Ok(fault)
    }
}

/// What the one upgrade of the process did, shared by every participant.
#[derive(Debug, Clone)]
struct Upgraded {
    started_at: String,
    done_at: String,
    took_ms: u64,
}

static PARTICIPANTS: AtomicUsize = AtomicUsize::new(1);
static ARRIVED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
static LEADER: AtomicBool = AtomicBool::new(false);
static OUTCOME: Mutex<Option<Result<Upgraded, String>>> = Mutex::new(None);

/// Set before a batch runs: how many of its scenarios take part in the
/// upgrade (they run at once; once all are there, one upgrades).
pub fn expect_participants(n: usize) {
    PARTICIPANTS.store(n.max(1), Ordering::SeqCst);
    arrived().clear();
    LEADER.store(false, Ordering::SeqCst);
    *OUTCOME.lock().unwrap_or_else(|p| p.into_inner()) = None;
}

/// A participant that ended without arriving (it failed to deploy): the
/// others no longer wait for it.
pub fn leave(label: &str) {
    if !arrived().contains(label) {
        let _ = PARTICIPANTS.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
            Some(n.saturating_sub(1).max(1))
        });
    }
}

fn arrived() -> std::sync::MutexGuard<'static, BTreeSet<String>> {
    ARRIVED.lock().unwrap_or_else(|p| p.into_inner())
}

fn upgraded() -> Option<Result<Upgraded, String>> {
    OUTCOME.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Arrives and waits until every participant has (or has left); one of
/// them then upgrades, the others wait for it (an upgrade that failed
/// fails every participant with its message).
async fn rendezvous(
    ctx: &FaultContext<'_>,
    cluster: &str,
    to: &KruiseRelease,
) -> anyhow::Result<Upgraded> {
    let count = {
        let mut arrived = arrived();
        arrived.insert(ctx.label.to_string());
        arrived.len()
    };
    crate::model::event::note(
        ctx.label,
        format!(
            "{count} of {} scenario(s) deployed on the old OpenKruise; the upgrade starts once \
             all are",
            PARTICIPANTS.load(Ordering::SeqCst)
        ),
    );
    let wait = ctx.deadline * 4;
    let deadline = Instant::now() + wait;
    loop {
        if let Some(outcome) = upgraded() {
            return outcome.map_err(|e| anyhow::anyhow!("upgrading OpenKruise: {e}"));
        }
        let everyone = arrived().len() >= PARTICIPANTS.load(Ordering::SeqCst);
        if everyone && !LEADER.swap(true, Ordering::SeqCst) {
            crate::model::event::note(ctx.label, format!("upgrading OpenKruise to {}", to.version));
            let outcome = upgrade(ctx, cluster, to)
                .await
                .map_err(|e| format!("{e:#}"));
            *OUTCOME.lock().unwrap_or_else(|p| p.into_inner()) = Some(outcome);
            continue;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "waited {}s for the upgrade: {} of {} scenario(s) arrived",
            wait.as_secs(),
            arrived().len(),
            PARTICIPANTS.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn upgrade(
    ctx: &FaultContext<'_>,
    cluster: &str,
    to: &KruiseRelease,
) -> anyhow::Result<Upgraded> {
    let started_at = crate::now_rfc3339();
    let clock = Instant::now();
    crate::environment::script::Script::cluster(ctx.repo_root)
        .args(&["upgrade-kruise", "--name", cluster])
        // The image name is derived from the version by scripts/env.sh.
        .env_remove(&["IPC_KRUISE_IMAGE"])
        .env(&[
            ("KRUISE_VERSION".to_string(), to.version.clone()),
            ("KRUISE_MODULE_SUM".to_string(), to.module_sum.clone()),
        ])
        .relay(ctx.label)
        .run()
        .await?;
    Ok(Upgraded {
        started_at,
        done_at: crate::now_rfc3339(),
        took_ms: clock.elapsed().as_millis() as u64,
    })
}

/// What the upgrade must leave alone: per pod, its UID, its containers'
/// IDs and restart counts and its revision labels; per workload, its
/// update revision.
pub type NamespaceState = BTreeMap<String, String>;

async fn namespace_state(client: &kube::Client, namespace: &str) -> anyhow::Result<NamespaceState> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let mut state: NamespaceState = pods
        .list(&ListParams::default())
        .await?
        .items
        .iter()
        .map(pod_state)
        .collect();
    for resource in workload_resources() {
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource);
        let Ok(list) = api.list(&ListParams::default()).await else {
            continue;
        };
        for object in list.items {
            state.insert(
                format!(
                    "{}/{}",
                    resource.kind,
                    object.metadata.name.clone().unwrap_or_default()
                ),
                format!(
                    "updateRevision {}",
                    object.data["status"]["updateRevision"]
                        .as_str()
                        .unwrap_or("-")
                ),
            );
        }
    }
    Ok(state)
}

/// `pod/NAME` -> "uid U; app containerd://x restarts 0; controller-revision-hash=..."
pub fn pod_state(pod: &Pod) -> (String, String) {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let mut parts = vec![format!(
        "uid {}",
        pod.metadata.uid.as_deref().unwrap_or("-")
    )];
    for c in pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .into_iter()
        .flatten()
    {
        parts.push(format!(
            "{} {} restarts {}",
            c.name,
            short_id(c.container_id.as_deref()),
            c.restart_count
        ));
    }
    for key in REVISION_KEYS {
        let value = pod
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(*key))
            .or_else(|| pod.metadata.annotations.as_ref().and_then(|a| a.get(*key)));
        if let Some(value) = value {
            parts.push(format!("{key}={}", revision_of(key, value)));
        }
    }
    (format!("pod/{name}"), parts.join("; "))
}

/// "containerd://0123456789abcdef..." as its first 12 hex digits.
fn short_id(id: Option<&str>) -> String {
    let id = id.unwrap_or("-");
    let hex = id.rsplit_once("://").map_or(id, |(_, h)| h);
    hex.chars().take(12).collect()
}

/// The in-place update state is JSON with timestamps: its revision is what
/// must not change.
fn revision_of(key: &str, value: &str) -> String {
    if key != "apps.kruise.io/inplace-update-state" {
        return value.to_string();
    }
    serde_json::from_str::<serde_json::Value>(value)
        .ok()
        .and_then(|v| v["revision"].as_str().map(str::to_string))
        .unwrap_or_else(|| value.to_string())
}

fn workload_resources() -> Vec<ApiResource> {
    let kruise = |version: &str, kind: &str, plural: &str| ApiResource {
        group: "apps.kruise.io".into(),
        version: version.into(),
        api_version: format!("apps.kruise.io/{version}"),
        kind: kind.into(),
        plural: plural.into(),
    };
    vec![
        kruise("v1alpha1", "CloneSet", "clonesets"),
        kruise("v1beta1", "StatefulSet", "statefulsets"),
        // v1alpha1: the version every release of the upgrade serves.
        kruise("v1alpha1", "DaemonSet", "daemonsets"),
    ]
}

/// Every key whose value differs between two states, or that one lacks.
pub fn differences(before: &NamespaceState, after: &NamespaceState) -> Vec<String> {
    let mut out = Vec::new();
    for (key, old) in before {
        match after.get(key) {
            Some(new) if new == old => {}
            Some(new) => out.push(format!("{key}: {old} -> {new}")),
            None => out.push(format!("{key}: gone")),
        }
    }
    for key in after.keys().filter(|k| !before.contains_key(*k)) {
        out.push(format!("{key}: appeared"));
    }
    out
}

/// Watches the namespace's pods for `window` after the upgrade; every
/// state that differs from `before` is a change.
async fn watch_window(
    ctx: &FaultContext<'_>,
    before: &NamespaceState,
    window: Duration,
) -> anyhow::Result<Vec<String>> {
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), ctx.namespace);
    let mut changes = Vec::new();
    let stream = watcher(pods, watcher::Config::default());
    let mut stream = std::pin::pin!(stream);
    let deadline = tokio::time::Instant::now() + window;
    while let Ok(Some(event)) = tokio::time::timeout_at(deadline, stream.next()).await {
        let (pod, deleted) = match event {
            Ok(watcher::Event::Apply(p)) | Ok(watcher::Event::InitApply(p)) => (p, false),
            Ok(watcher::Event::Delete(p)) => (p, true),
            _ => continue,
        };
        let (key, state) = pod_state(&pod);
        match (before.get(&key), deleted) {
            (_, true) => changes.push(format!("{key}: deleted")),
            (Some(old), false) if *old == state => {}
            (Some(old), false) => changes.push(format!("{key}: {old} -> {state}")),
            (None, false) => changes.push(format!("{key}: appeared")),
        }
    }
    Ok(changes)
}

/// Update events in the namespace since `since` ("REASON OBJECT: message").
async fn update_events(
    client: &kube::Client,
    namespace: &str,
    since: &str,
) -> anyhow::Result<Vec<String>> {
    let api: Api<Event> = Api::namespaced(client.clone(), namespace);
    let since = crate::time_key(since);
    Ok(api
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter(|e| UPDATE_EVENTS.contains(&e.reason.as_deref().unwrap_or("")))
        .filter(|e| {
            let at = e
                .last_timestamp
                .as_ref()
                .map(|t| t.0.to_string())
                .or_else(|| e.event_time.as_ref().map(|t| t.0.to_string()))
                .unwrap_or_default();
            crate::time_key(&at) >= since
        })
        .map(|e| {
            format!(
                "{} {}/{}: {}",
                e.reason.unwrap_or_default(),
                e.involved_object.kind.unwrap_or_default(),
                e.involved_object.name.unwrap_or_default(),
                e.message.unwrap_or_default()
            )
        })
        .collect())
}

/// OpenKruise's admission webhooks by name ("mutating mcloneset.kb.io"),
/// now; empty when they cannot be read.
async fn webhooks(client: &kube::Client) -> Vec<String> {
    use k8s_openapi::api::admissionregistration::v1::{
        MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
    };
    let mut names = Vec::new();
    let mutating: Api<MutatingWebhookConfiguration> = Api::all(client.clone());
    if let Ok(config) = mutating.get("kruise-mutating-webhook-configuration").await {
        names.extend(
            config
                .webhooks
                .iter()
                .flatten()
                .map(|w| format!("mutating {}", w.name)),
        );
    }
    let validating: Api<ValidatingWebhookConfiguration> = Api::all(client.clone());
    if let Ok(config) = validating
        .get("kruise-validating-webhook-configuration")
        .await
    {
        names.extend(
            config
                .webhooks
                .iter()
                .flatten()
                .map(|w| format!("validating {}", w.name)),
        );
    }
    names.sort();
    names
}

/// kruise-system's pods and their images, now.
async fn component_images(client: &kube::Client) -> BTreeMap<String, String> {
    let api: Api<Pod> = Api::namespaced(client.clone(), crate::observe::kruise::SYSTEM_NAMESPACE);
    let Ok(list) = api.list(&ListParams::default()).await else {
        return BTreeMap::new();
    };
    list.items
        .iter()
        .map(|p| {
            let image = p
                .spec
                .as_ref()
                .and_then(|s| s.containers.first())
                .and_then(|c| c.image.clone())
                .unwrap_or_default();
            (p.metadata.name.clone().unwrap_or_default(), image)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_differ_by_key() {
        let before: NamespaceState = [
            ("pod/a".to_string(), "uid 1".to_string()),
            ("pod/b".to_string(), "uid 2".to_string()),
        ]
        .into();
        let after: NamespaceState = [
            ("pod/a".to_string(), "uid 1".to_string()),
            ("pod/c".to_string(), "uid 3".to_string()),
        ]
        .into();
        assert_eq!(
            differences(&before, &after),
            ["pod/b: gone", "pod/c: appeared"]
        );
        assert!(differences(&before, &before).is_empty());
    }

    #[test]
    fn the_in_place_state_counts_by_its_revision() {
        let state = r#"{"revision":"app-abc","updateTimestamp":"2026-01-01T00:00:00Z"}"#;
        assert_eq!(
            revision_of("apps.kruise.io/inplace-update-state", state),
            "app-abc"
        );
        assert_eq!(revision_of("controller-revision-hash", "x"), "x");
    }
}
