//! What an interrupted run leaves behind, found by label and removed: the
//! scenario namespaces (`inplace-conformance/run=<run-id>`), the
//! cluster-scoped objects their fixtures created (labelled with their
//! namespace) and the run's registry container (same run label).
//! Used by the CLI on SIGINT/SIGTERM and by `scripts/test` through
//! `inplace-conformance cleanup --run-id`, so that a process killed before
//! its guards ran still leaves nothing.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kube::Client;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams};

use crate::scenarios::catalog::CATALOG;

use crate::environment::interrupt::{self, RUN_LABEL};
use crate::model::event::{self, Event};

/// A namespace whose deletion a scenario asked for and did not wait for:
/// its pods terminate (grace periods, claims released) while the next
/// scenarios run, and the run waits for all of them once, at its end.
struct Deleting {
    client: Client,
    namespace: String,
    uid: String,
}

static DELETING: std::sync::Mutex<Vec<Deleting>> = std::sync::Mutex::new(Vec::new());

/// Notes a namespace whose deletion was requested (`await_deletions`
/// waits for it).
pub(crate) fn deleting(client: &Client, namespace: &str, uid: &str) {
    DELETING
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(Deleting {
            client: client.clone(),
            namespace: namespace.to_string(),
            uid: uid.to_string(),
        });
}

/// Waits, up to `timeout` in all, until every namespace the run asked to
/// delete is gone; warns naming those still there. Called once at the end
/// of a run (`batch::run_scenarios`, the cargo test harness).
pub async fn await_deletions(timeout: Duration) {
    let pending = std::mem::take(&mut *DELETING.lock().unwrap_or_else(|p| p.into_inner()));
    if pending.is_empty() {
        return;
    }
    let started = std::time::Instant::now();
    let waits = pending.iter().map(|d| async move {
        let api: Api<Namespace> = Api::all(d.client.clone());
        let gone = kube::runtime::wait::await_condition(
            api,
            &d.namespace,
            kube::runtime::wait::conditions::is_deleted(&d.uid),
        );
        match tokio::time::timeout(timeout, gone).await {
            Ok(Ok(_)) => None,
            _ => Some(d.namespace.clone()),
        }
    });
    let left: Vec<String> = futures::future::join_all(waits)
        .await
        .into_iter()
        .flatten()
        .collect();
    if left.is_empty() {
        event::note(
            "run",
            format!(
                "{} scenario namespace(s) gone {:.1} s after the last scenario",
                pending.len(),
                started.elapsed().as_secs_f64()
            ),
        );
    } else {
        event::warn(
            "run",
            format!(
                "namespace(s) still there {}s after deletion: {}; hint: `kubectl get ns {}` \
                 shows what holds them",
                timeout.as_secs(),
                left.join(", "),
                left[0]
            ),
        );
    }
}

/// What was removed, for the closing line.
#[derive(Debug, Default)]
pub struct Removed {
    pub namespaces: Vec<String>,
    pub cluster_objects: Vec<String>,
    pub containers: Vec<String>,
}

impl Removed {
    pub fn describe(&self) -> String {
        let list = |v: &[String]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        format!(
            "namespaces: {}; cluster-scoped objects: {}; registry containers: {}",
            list(&self.namespaces),
            list(&self.cluster_objects),
            list(&self.containers)
        )
    }
}

/// Removes the run's namespaces and cluster-scoped objects from the
/// cluster (waiting up to `timeout` for the namespaces to go).
pub async fn cluster_leftovers(
    client: &Client,
    repo_root: &Path,
    run_id: &str,
    removed: &mut Removed,
    timeout: Duration,
) -> anyhow::Result<()> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let selector = ListParams::default().labels(&format!("{RUN_LABEL}={run_id}"));
    let names: Vec<String> = namespaces
        .list(&selector)
        .await?
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    for resource in cluster_scoped_fixture_kinds(client, repo_root).await {
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
        for name in &names {
            let labelled = ListParams::default()
                .labels(&format!("{}={name}", crate::workloads::NAMESPACE_LABEL));
            for object in api.list(&labelled).await?.items {
                let object_name = object.metadata.name.unwrap_or_default();
                api.delete(&object_name, &DeleteParams::default()).await?;
                removed
                    .cluster_objects
                    .push(format!("{} {object_name}", resource.kind));
            }
        }
    }
    // Only a run's own cordons, found by the annotation it wrote; a node
    // the account may not patch was never cordoned by it.
    for node in crate::workloads::cordon::cordoned_by(client, run_id).await? {
        crate::workloads::cordon::uncordon(client, &node).await?;
        removed
            .cluster_objects
            .push(format!("cordon of node {node}"));
    }
    let mut deleted = Vec::new();
    for name in &names {
        namespaces.delete(name, &DeleteParams::background()).await?;
        removed.namespaces.push(name.clone());
        let uid = namespaces.get_opt(name).await?.and_then(|n| n.metadata.uid);
        deleted.push((name.clone(), uid.unwrap_or_default()));
    }
    // Watched, as the namespace guard waits: each one until it is gone.
    let gone = async {
        for (name, uid) in &deleted {
            let condition = kube::runtime::wait::conditions::is_deleted(uid);
            kube::runtime::wait::await_condition(namespaces.clone(), name, condition).await?;
        }
        Ok::<(), anyhow::Error>(())
    };
    match tokio::time::timeout(timeout, gone).await {
        Ok(result) => Ok(result?),
        Err(_) => anyhow::bail!(
            "namespaces of run {run_id} still terminating after {}s",
            timeout.as_secs()
        ),
    }
}

/// The cluster-scoped kinds any catalog fixture creates (a SidecarSet).
async fn cluster_scoped_fixture_kinds(
    client: &Client,
    repo_root: &Path,
) -> Vec<kube::api::ApiResource> {
    let fixtures: BTreeSet<&str> = CATALOG.iter().map(|s| s.fixture).collect();
    let mut kinds = Vec::new();
    for fixture in fixtures {
        let Ok(docs) = crate::workloads::load_fixture(repo_root, fixture) else {
            continue;
        };
        for doc in docs {
            let Ok(gvk) = crate::workloads::document_gvk(&doc) else {
                continue;
            };
            if let Ok((resource, caps)) = kube::discovery::pinned_kind(client, &gvk).await
                && caps.scope == kube::discovery::Scope::Cluster
                && !kinds.contains(&resource)
            {
                kinds.push(resource);
            }
        }
    }
    kinds
}

/// Removes the run's registry containers from podman.
pub async fn registry_leftovers(
    repo_root: &Path,
    run_id: &str,
    removed: &mut Removed,
) -> anyhow::Result<()> {
    // Without podman on this machine (a run from a pod, a runner with
    // only a kubeconfig) no registry container can be here.
    if crate::environment::tools::on_path("podman").is_none() {
        return Ok(());
    }
    let filter = format!("label={RUN_LABEL}={run_id}");
    let listed = crate::environment::images::podman(
        repo_root,
        &["ps", "-a", "--filter", &filter, "--format", "{{.Names}}"],
    )
    .await?;
    for name in listed.lines().map(str::trim).filter(|n| !n.is_empty()) {
        crate::environment::images::podman(repo_root, &["rm", "-f", "-t", "2", name]).await?;
        removed.containers.push(name.to_string());
    }
    Ok(())
}

/// Removes everything labelled with the run: in the cluster of
/// `kubeconfig` (if given; twice, so that a namespace whose creation was in
/// flight at the first listing shows up in the second) and in podman.
/// Returns what was removed and what could not be.
pub async fn remove_run(
    repo_root: &Path,
    run_id: &str,
    kubeconfig: Option<&Path>,
    timeout: Duration,
) -> (Removed, Vec<String>) {
    let mut removed = Removed::default();
    let mut problems = Vec::new();
    if let Some(kubeconfig) = kubeconfig {
        let cluster = crate::environment::cluster::Cluster {
            name: String::new(),
            kubeconfig: kubeconfig.to_path_buf(),
            kind_node: None,
        };
        let cleaned = async {
            let client = cluster.client().await?;
            for _ in 0..2 {
                cluster_leftovers(&client, repo_root, run_id, &mut removed, timeout).await?;
            }
            Ok::<(), anyhow::Error>(())
        };
        if let Err(err) = cleaned.await {
            problems.push(format!("{err:#}"));
        }
    }
    if let Err(err) = registry_leftovers(repo_root, run_id, &mut removed).await {
        problems.push(format!("{err:#}"));
    }
    (removed, problems)
}

/// What to undo if the process is interrupted, filled in as the run
/// learns it (the cluster is known only once acquired).
#[derive(Debug, Clone, Default)]
pub struct OnInterrupt {
    pub repo_root: std::path::PathBuf,
    pub run_id: String,
    /// The cluster whose namespaces to remove.
    pub kubeconfig: Option<std::path::PathBuf>,
    /// A kind cluster this run created and must delete.
    pub delete_cluster: Option<String>,
    /// Stop podman's API service (this run started it).
    pub stop_podman_api: bool,
}

static PLAN: std::sync::Mutex<Option<OnInterrupt>> = std::sync::Mutex::new(None);

fn plan() -> std::sync::MutexGuard<'static, Option<OnInterrupt>> {
    PLAN.lock().unwrap_or_else(|p| p.into_inner())
}

/// Updates what an interruption must undo (the first call also starts the
/// watcher; later ones change the plan).
pub fn on_interrupt(update: impl FnOnce(&mut OnInterrupt)) {
    let mut guard = plan();
    let first = guard.is_none();
    update(guard.get_or_insert_with(Default::default));
    drop(guard);
    if first {
        std::thread::spawn(watch_signals);
    }
}

/// How long the main path has, after a signal, to record the scenarios it
/// cut short, write the run folder and call `finish_interrupted`, before
/// the watcher undoes the run itself (scripts/test waits 180 s).
const GRACE: Duration = Duration::from_secs(150);

static UNDOING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Waits for SIGINT or SIGTERM: marks the run interrupted (running
/// scenarios stop and record themselves INTERRUPTED), stops child process
/// groups, and leaves the rest to the main path (`finish_interrupted`);
/// undoes the run itself only if the main path has not done so within
/// `GRACE`. A second signal exits at once.
fn watch_signals() {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(_) => return,
    };
    runtime.block_on(async {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut int), Ok(mut term)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            return;
        };
        let name = tokio::select! {
            _ = int.recv() => "SIGINT",
            _ = term.recv() => "SIGTERM",
        };
        let code = exit_code(name);
        interrupt::mark_interrupted(name);
        event::emit(Event::Interrupted {
            signal: name.to_string(),
        });
        stop_children();
        let fallback = async {
            tokio::time::sleep(GRACE).await;
            if !UNDOING.swap(true, std::sync::atomic::Ordering::SeqCst) {
                // The exit code says "interrupted" whether or not the
                // cleanup was complete; its lines say what is left.
                let _ = undo(name).await;
                std::process::exit(code)
            }
            std::future::pending::<()>().await;
        };
        tokio::select! {
            _ = fallback => {}
            _ = int.recv() => std::process::exit(code),
            _ = term.recv() => std::process::exit(code),
        }
    });
}

/// 130 for SIGINT, 143 for SIGTERM (128 + the signal's number).
pub fn exit_code(signal: &str) -> i32 {
    if signal == "SIGINT" { 130 } else { 143 }
}

fn stop_children() {
    for pgid in interrupt::take_children() {
        // SAFETY: kill(2) on a process group this process started.
        unsafe { libc::kill(-(pgid as i32), libc::SIGTERM) };
    }
}

/// The main path's end after a signal, once the run folder is written:
/// removes what the run created and exits 130 or 143.
pub async fn finish_interrupted() -> ! {
    std::process::exit(i32::from(undo_interrupted().await))
}

/// Removes what the interrupted run created (once) and returns the exit
/// code that says so (130, 143), for a caller with more to do before it
/// exits (handing the partial results over).
pub async fn undo_interrupted() -> u8 {
    let signal = interrupt::signal().unwrap_or("SIGTERM");
    if !UNDOING.swap(true, std::sync::atomic::Ordering::SeqCst) {
        let _ = undo(signal).await;
    }
    u8::try_from(exit_code(signal)).unwrap_or(1)
}

async fn undo(signal: &'static str) -> anyhow::Result<()> {
    let Some(plan) = plan().clone() else {
        return Ok(());
    };
    let say = |m: &str| event::note("interrupted", m);
    say(&format!(
        "{signal}: stopping run {} and removing what it created",
        plan.run_id
    ));
    stop_children();
    // A cluster about to be deleted needs no namespace cleanup.
    let kubeconfig = plan
        .kubeconfig
        .as_deref()
        .filter(|_| plan.delete_cluster.is_none());
    let (mut removed, mut problems) = remove_run(
        &plan.repo_root,
        &plan.run_id,
        kubeconfig,
        Duration::from_secs(120),
    )
    .await;
    if let Some(name) = &plan.delete_cluster {
        match crate::environment::cluster::delete(&plan.repo_root, name).await {
            Ok(()) => removed.cluster_objects.push(format!("kind cluster {name}")),
            Err(err) => problems.push(format!("{err:#}")),
        }
    }
    if plan.stop_podman_api {
        let _ = crate::environment::cluster::run_script(&plan.repo_root, &["registry-socket-stop"])
            .await;
    }
    say(&format!("removed {}", removed.describe()));
    if problems.is_empty() {
        say("run interrupted; nothing it created is left");
        Ok(())
    } else {
        say(&format!(
            "run interrupted; could not remove everything: {}",
            problems.join("; ")
        ));
        anyhow::bail!("incomplete cleanup")
    }
}
