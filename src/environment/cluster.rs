//! Getting a cluster and talking to it. The cluster itself is made by the
//! project's `scripts/cluster` (kind on podman, Kruise installed); this side
//! only asks for one, shares it between the suites of a run, and fails with
//! one line and a hint when none can be had.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use kube::Client;
use kube::config::{KubeConfigOptions, Kubeconfig};

use super::script::{Script, ScriptError};

/// Default kind cluster name (also the node-exec target).
pub const DEFAULT_CLUSTER: &str = "inplace-conformance";

/// Where the cluster comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterSource {
    /// An existing cluster's kubeconfig (`INPLACE_KUBECONFIG`). `kind_node`
    /// names the kind cluster when it is one of this machine's (then the
    /// suite may reach its node, e.g. to trust a per-scenario registry);
    /// `None` is a foreign cluster: nothing but its API is used.
    Kubeconfig {
        path: PathBuf,
        kind_node: Option<String>,
    },
    /// A kind cluster created or reused by `scripts/cluster up --name`.
    Named(String),
}

impl ClusterSource {
    /// `INPLACE_KUBECONFIG` (with `INPLACE_CLUSTER` naming its kind
    /// cluster, if it is one of ours), else the kind cluster
    /// `INPLACE_CLUSTER` (default `inplace-conformance`).
    pub fn from_env() -> ClusterSource {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        match var("INPLACE_KUBECONFIG") {
            Some(path) => ClusterSource::Kubeconfig {
                path: path.into(),
                kind_node: var("INPLACE_CLUSTER"),
            },
            None => ClusterSource::Named(
                var("INPLACE_CLUSTER").unwrap_or_else(|| DEFAULT_CLUSTER.to_string()),
            ),
        }
    }

    /// The kind cluster whose node the suite may reach, if any.
    pub fn kind_node(&self) -> Option<&str> {
        match self {
            ClusterSource::Kubeconfig { kind_node, .. } => kind_node.as_deref(),
            ClusterSource::Named(name) => Some(name),
        }
    }

    /// How the cluster is named in progress lines and reports.
    pub fn label(&self) -> String {
        match self {
            ClusterSource::Kubeconfig {
                kind_node: Some(name),
                ..
            }
            | ClusterSource::Named(name) => name.clone(),
            ClusterSource::Kubeconfig {
                path,
                kind_node: None,
            } => current_context(path).unwrap_or_else(|| path.display().to_string()),
        }
    }
}

/// The kubeconfig's current context, the natural name of a foreign cluster.
fn current_context(path: &Path) -> Option<String> {
    Kubeconfig::read_from(path)
        .ok()?
        .current_context
        .filter(|c| !c.is_empty())
}

/// A cluster that exists: plain data, shareable across test runtimes (a
/// `kube::Client` is not; build one per test with [`Cluster::client`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    pub name: String,
    pub kubeconfig: PathBuf,
    /// The kind cluster whose node may be reached (`None`: foreign).
    pub kind_node: Option<String>,
}

/// "No cluster": displayed as exactly one line, cause then hint.
#[derive(Debug, Clone, thiserror::Error)]
#[error("no cluster: {cause}; hint: {hint}")]
pub struct NoCluster {
    pub cause: String,
    pub hint: String,
}

fn no_cluster(cause: impl Into<String>, hint: impl Into<String>) -> NoCluster {
    let one_line = |s: String| s.split_whitespace().collect::<Vec<_>>().join(" ");
    NoCluster {
        cause: one_line(cause.into()),
        hint: one_line(hint.into()),
    }
}

const HINT: &str = "create one with `scripts/cluster up --name NAME` and set \
    INPLACE_CLUSTER=NAME, or point INPLACE_KUBECONFIG at an existing cluster";

pub fn cluster_script(repo_root: &Path) -> PathBuf {
    repo_root.join("scripts/cluster")
}

/// Resolves the source to a running cluster. A named cluster is brought up
/// at most once per process, under a file lock so that parallel test
/// binaries don't race `kind create`; failures are cached too, so every
/// test of a binary fails fast with the same line.
pub async fn acquire(
    source: &ClusterSource,
    repo_root: &Path,
    lock_dir: &Path,
    kind_config: Option<&Path>,
) -> Result<Cluster, NoCluster> {
    match source {
        ClusterSource::Kubeconfig { path, kind_node } => {
            if !path.is_file() {
                return Err(no_cluster(
                    format!("INPLACE_KUBECONFIG={} is not a file", path.display()),
                    HINT,
                ));
            }
            Ok(Cluster {
                name: source.label(),
                kubeconfig: path.clone(),
                kind_node: kind_node.clone(),
            })
        }
        ClusterSource::Named(name) => {
            let (name, repo_root, lock_dir) = (
                name.clone(),
                repo_root.to_path_buf(),
                lock_dir.to_path_buf(),
            );
            let kind_config = kind_config.map(Path::to_path_buf);
            tokio::task::spawn_blocking(move || {
                bring_up_once(&name, &repo_root, &lock_dir, kind_config.as_deref())
            })
            .await
            .map_err(|e| no_cluster(format!("cluster task failed: {e}"), HINT))?
        }
    }
}

type UpCache = Mutex<HashMap<String, Result<Cluster, NoCluster>>>;

fn bring_up_once(
    name: &str,
    repo_root: &Path,
    lock_dir: &Path,
    kind_config: Option<&Path>,
) -> Result<Cluster, NoCluster> {
    static CACHE: OnceLock<UpCache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    // Holding the mutex while the script runs makes concurrent tests of
    // this binary wait for the one bring-up instead of starting their own.
    let mut guard = cache.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(result) = guard.get(name) {
        return result.clone();
    }
    let result = bring_up_locked(name, repo_root, lock_dir, kind_config);
    guard.insert(name.to_string(), result.clone());
    result
}

fn bring_up_locked(
    name: &str,
    repo_root: &Path,
    lock_dir: &Path,
    kind_config: Option<&Path>,
) -> Result<Cluster, NoCluster> {
    let script = cluster_script(repo_root);
    if !script.is_file() {
        return Err(no_cluster(
            format!("{} not found", script.display()),
            "the cluster tooling is missing from this checkout; set INPLACE_KUBECONFIG \
             to use an existing cluster",
        ));
    }
    std::fs::create_dir_all(lock_dir)
        .map_err(|e| no_cluster(format!("cannot create {}: {e}", lock_dir.display()), HINT))?;
    let lock_path = lock_dir.join(format!("cluster-{name}.lock"));
    let lock = std::fs::File::create(&lock_path)
        .map_err(|e| no_cluster(format!("cannot open {}: {e}", lock_path.display()), HINT))?;
    crate::model::event::note(
        "cluster",
        format!("scripts/cluster up --name {name} (create or reuse; may take minutes)"),
    );
    lock.lock()
        .map_err(|e| no_cluster(format!("cannot lock {}: {e}", lock_path.display()), HINT))?;
    // Its progress is passed on as events; its `error:`/`hint:` lines
    // become this error's one line. An interruption stops it (and the kind
    // create under it) before deleting the cluster.
    // A kind config matters only to a cluster the script creates; one that
    // exists is reused as it is.
    let mut args = vec!["up".to_string(), "--name".into(), name.into()];
    if let Some(config) = kind_config {
        args.extend(["--config".into(), config.display().to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let ran = tokio::runtime::Handle::current().block_on(
        Script::cluster(repo_root)
            .args(&args)
            .relay("cluster")
            .run(),
    );
    // The lock is released when `lock` is dropped, after the script ended.
    let stdout = match ran {
        Ok(ran) => ran.stdout,
        Err(ScriptError::Failed { said, .. }) if said.error.is_some() => {
            return Err(no_cluster(
                said.error.unwrap_or_default(),
                said.hint.unwrap_or_else(|| HINT.into()),
            ));
        }
        Err(err) => {
            return Err(no_cluster(
                err.to_string(),
                "see its progress above; fix the cluster tooling or set INPLACE_KUBECONFIG",
            ));
        }
    };
    let kubeconfig = parse_kubeconfig_line(&stdout).ok_or_else(|| {
        no_cluster(
            format!("`scripts/cluster up --name {name}` printed no final KUBECONFIG= line"),
            HINT,
        )
    })?;
    drop(lock);
    Ok(Cluster {
        name: name.to_string(),
        kubeconfig,
        kind_node: Some(name.to_string()),
    })
}

/// Why a kubeconfig cannot name a cluster: no current context, or one its
/// contexts do not define (kube's own error comes later and says less).
pub fn context_problem(kubeconfig: &Kubeconfig) -> Option<String> {
    let names: Vec<&str> = kubeconfig
        .contexts
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    let hint = format!(
        "hint: contexts are [{}]; `kubectl config use-context NAME --kubeconfig FILE`",
        names.join(", ")
    );
    match &kubeconfig.current_context {
        None => Some(format!("it has no current-context; {hint}")),
        Some(current) if !names.contains(&current.as_str()) => Some(format!(
            "its current-context '{current}' is not among its contexts; {hint}"
        )),
        Some(_) => None,
    }
}

/// The contract: the LAST non-empty stdout line is `KUBECONFIG=/abs/path`.
pub fn parse_kubeconfig_line(stdout: &str) -> Option<PathBuf> {
    let last = stdout.lines().rev().find(|l| !l.trim().is_empty())?;
    let path = last.trim().strip_prefix("KUBECONFIG=")?;
    (!path.is_empty()).then(|| PathBuf::from(path))
}

impl Cluster {
    /// A fresh client (bound to the calling runtime), checked to answer.
    pub async fn client(&self) -> Result<Client, NoCluster> {
        let unreachable = |cause: String| {
            no_cluster(
                format!(
                    "cluster {} (kubeconfig {}) unreachable: {cause}",
                    self.name,
                    self.kubeconfig.display()
                ),
                "is the kind node running? `scripts/cluster up --name NAME` reuses and \
                 repairs it",
            )
        };
        let kubeconfig = Kubeconfig::read_from(&self.kubeconfig)
            .map_err(|e| unreachable(format!("reading kubeconfig: {e}")))?;
        let config =
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .map_err(|e| unreachable(format!("loading kubeconfig: {e}")))?;
        let client = Client::try_from(config).map_err(|e| unreachable(e.to_string()))?;
        match tokio::time::timeout(Duration::from_secs(15), client.apiserver_version()).await {
            Ok(Ok(_)) => Ok(client),
            Ok(Err(e)) => Err(unreachable(e.to_string())),
            Err(_) => Err(unreachable("no answer within 15s".into())),
        }
    }
}

/// Runs `scripts/cluster ARGS`, returning its stdout; a failure carries the
/// script's one-line cause and hint.
pub async fn run_script(repo_root: &Path, args: &[&str]) -> anyhow::Result<String> {
    Ok(Script::cluster(repo_root).args(args).run().await?.stdout)
}

/// Deletes a kind cluster (`scripts/cluster delete`), for `run` without
/// `--keep-cluster`.
pub async fn delete(repo_root: &Path, cluster: &str) -> anyhow::Result<()> {
    Script::cluster(repo_root)
        .args(&["delete", "--name", cluster])
        .relay("cluster")
        .run()
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_is_the_last_line() {
        let out = "creating cluster\nKUBECONFIG=/old\nloading images\nKUBECONFIG=/abs/kc\n\n";
        assert_eq!(parse_kubeconfig_line(out), Some(PathBuf::from("/abs/kc")));
        assert_eq!(parse_kubeconfig_line("KUBECONFIG=/abs/kc\ndone\n"), None);
        assert_eq!(parse_kubeconfig_line("KUBECONFIG=\n"), None);
        assert_eq!(parse_kubeconfig_line(""), None);
    }

    #[test]
    fn no_cluster_is_one_line() {
        let err = no_cluster("a\nb", "c\n  d");
        let text = err.to_string();
        assert_eq!(text, "no cluster: a b; hint: c d");
    }

    #[tokio::test]
    async fn missing_script_fails_fast_with_hint() {
        let root = std::env::temp_dir().join(format!("ipc-noscript-{}", crate::short_id()));
        std::fs::create_dir_all(&root).unwrap();
        let source = ClusterSource::Named(format!("absent-{}", crate::short_id()));
        let err = acquire(&source, &root, &root.join("locks"), None)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("no cluster: "), "{err}");
        assert!(err.contains("scripts/cluster not found"), "{err}");
        assert!(err.contains("hint: "), "{err}");
        assert!(!err.contains('\n'));
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_kubeconfig_alone_is_a_foreign_cluster() {
        let foreign = ClusterSource::Kubeconfig {
            path: "/nonexistent".into(),
            kind_node: None,
        };
        assert_eq!(foreign.kind_node(), None);
        assert_eq!(foreign.label(), "/nonexistent");
        let ours = ClusterSource::Kubeconfig {
            path: "/nonexistent".into(),
            kind_node: Some("ipc-dev".into()),
        };
        assert_eq!(ours.kind_node(), Some("ipc-dev"));
        assert_eq!(ClusterSource::Named("x".into()).kind_node(), Some("x"));
    }

    #[tokio::test]
    async fn missing_kubeconfig_file_is_refused() {
        let source = ClusterSource::Kubeconfig {
            path: "/nonexistent/kubeconfig".into(),
            kind_node: None,
        };
        let err = acquire(&source, Path::new("/"), Path::new("/tmp"), None)
            .await
            .unwrap_err();
        assert!(err.cause.contains("/nonexistent/kubeconfig"));
    }
}
