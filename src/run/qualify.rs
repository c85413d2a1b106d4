//! Release qualification over a matrix of Kubernetes x OpenKruise versions
//! x profiles. Each cell: build what is missing (`scripts/bootstrap`, cached
//! by version), create a kind cluster of that version with that OpenKruise
//! (`scripts/cluster up`), run the scenarios, delete the cluster. Cells
//! write their own folder (`cells/<cell>/` with `cell.json`); `merge`
//! combines any set of cell folders into one report and one gate decision,
//! so a CI system can fan cells out over runners (`--cell`, `--shard`).
//!
//! ```yaml
//! kubernetes: [v1.34.4, v1.35.4]
//! openkruise:
//!   - {version: v1.9.0, module_sum: "h1:..."}   # the Go module's h1: hash
//!   - {version: v1.8.2, module_sum: "h1:..."}
//! runtimes:                                      # optional; Debian's containerd
//!   - {name: containerd-1.6, containerd: debian}
//!   - {name: containerd-2.2, containerd: v2.2.9}  # built from its Go module
//! topologies:                                    # optional; the default cluster
//!   - {name: single-node, kind_config: ../kind-config/single-node.yaml}
//!   - {name: multi-node, kind_config: ../kind-config/multi-node.yaml}
//! profiles:                                      # optional; one "default"
//!   - name: default
//!     kruise_feature_gates: {InPlaceWorkloadVerticalScaling: true}
//!     topologies: [single-node]                  # optional; default all
//! scenarios: [inplace-image, cloneset-recreate]  # optional; default all
//! ```
//!
//! A cell's name carries the runtime and topology when the matrix lists
//! those axes: `k8s-v1.35.4-kruise-v1.9.0-containerd-2.2-multi-node-default`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

use anyhow::Context;

use crate::environment::script::Script;
use serde::{Deserialize, Serialize};

use crate::environment::cluster::ClusterSource;
use crate::environment::config::RunConfig;
use crate::scenarios::catalog::{self, Scenario};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Matrix {
    pub kubernetes: Vec<String>,
    pub openkruise: Vec<KruiseRelease>,
    /// The node image's container runtime (`CONTAINERD_VERSION`); when
    /// absent, the one default runtime and no runtime in cell names.
    #[serde(default)]
    pub runtimes: Vec<Runtime>,
    /// The cluster's shape (a kind config); when absent, the default
    /// cluster and no topology in cell names.
    #[serde(default)]
    pub topologies: Vec<Topology>,
    #[serde(default = "default_profiles")]
    pub profiles: Vec<Profile>,
    #[serde(default)]
    pub scenarios: Vec<String>,
    /// The folder the file is in: profile paths are relative to it.
    #[serde(skip)]
    pub dir: PathBuf,
}

pub use crate::model::cell::KruiseRelease;

/// A runtime axis member: containerd as `scripts/bootstrap` builds it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Runtime {
    pub name: String,
    /// "debian" (Debian's package) or a containerd 2.x release built from
    /// its Go module.
    pub containerd: String,
}

/// A topology axis member: a kind config, relative to the matrix file.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Topology {
    pub name: String,
    #[serde(default)]
    pub kind_config: Option<PathBuf>,
}

const CONTAINERD_MODULE: &str = "github.com/containerd/containerd/v2";

fn default_runtime() -> Runtime {
    Runtime {
        name: "containerd-debian".into(),
        containerd: "debian".into(),
    }
}

fn default_topology() -> Topology {
    Topology {
        name: "single-node".into(),
        kind_config: None,
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    /// Added to kruise-manager's --feature-gates (they override ours).
    #[serde(default)]
    pub kruise_feature_gates: BTreeMap<String, bool>,
    /// Install this OpenKruise release first and upgrade the cluster to the
    /// cell's under live workloads (the `upgrade` profile's scenarios); no
    /// cell is made for the release itself.
    #[serde(default)]
    pub upgrade_from: Option<KruiseRelease>,
    /// The profile's own selection (default: the matrix's; the upgrade
    /// profile for a profile with `upgrade_from`).
    #[serde(default)]
    pub scenarios: Vec<String>,
    /// The runtimes and topologies the profile is crossed with, by name
    /// (default: every one).
    #[serde(default)]
    pub runtimes: Vec<String>,
    #[serde(default)]
    pub topologies: Vec<String>,
}

fn default_profiles() -> Vec<Profile> {
    vec![Profile {
        name: "default".into(),
        kruise_feature_gates: BTreeMap::new(),
        upgrade_from: None,
        scenarios: Vec::new(),
        runtimes: Vec::new(),
        topologies: Vec::new(),
    }]
}

impl Profile {
    /// The OpenKruise release the cluster is created with.
    pub fn installs<'a>(&'a self, cell_release: &'a KruiseRelease) -> &'a KruiseRelease {
        self.upgrade_from.as_ref().unwrap_or(cell_release)
    }

    fn crosses(&self, runtime: &Runtime, topology: &Topology) -> bool {
        (self.runtimes.is_empty() || self.runtimes.contains(&runtime.name))
            && (self.topologies.is_empty() || self.topologies.contains(&topology.name))
    }
}

/// One combination of the matrix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    pub name: String,
    pub kubernetes: String,
    pub openkruise: KruiseRelease,
    pub runtime: Runtime,
    pub topology: Topology,
    pub profile: Profile,
}

impl Cell {
    /// One line for `qualify --list`: the name and what it crosses.
    pub fn describe(&self) -> String {
        let upgrade = self
            .profile
            .upgrade_from
            .as_ref()
            .map(|from| format!("{} -> ", from.version))
            .unwrap_or_default();
        let runtime = match self.runtime.containerd.as_str() {
            "debian" => "Debian's containerd package".to_string(),
            version => format!("containerd {version}"),
        };
        format!(
            "{}\tKubernetes {}, OpenKruise {upgrade}{}, {runtime}, {}, profile {}",
            self.name,
            self.kubernetes,
            self.openkruise.version,
            self.topology.name,
            self.profile.name
        )
    }
}

/// Before any cell runs: the programs qualify drives, and every version the
/// selected cells name, looked up on the Go module proxy that bootstrap
/// builds them from (an unknown version fails here, not after a cluster).
pub fn preflight(cells: &[Cell]) -> anyhow::Result<()> {
    crate::environment::tools::require(&[
        (
            "go",
            "bootstrap builds each cell's versions",
            "install Go 1.22 or newer",
        ),
        (
            "podman",
            "kind's provider and the image builds",
            "scripts/bootstrap installs it",
        ),
        ("bash", "the project's scripts", "install bash"),
    ])?;
    let mut wanted = std::collections::BTreeSet::new();
    for cell in cells {
        wanted.insert(("Kubernetes", "k8s.io/kubernetes", cell.kubernetes.clone()));
        for release in [&cell.openkruise, cell.profile.installs(&cell.openkruise)] {
            wanted.insert((
                "OpenKruise",
                "github.com/openkruise/kruise",
                release.version.clone(),
            ));
        }
        if cell.runtime.containerd != "debian" {
            wanted.insert((
                "containerd",
                CONTAINERD_MODULE,
                cell.runtime.containerd.clone(),
            ));
        }
    }
    for (what, module, version) in wanted {
        module_served(module, &version).map_err(|cause| {
            anyhow::anyhow!(
                "the matrix names {what} {version}, which the Go module proxy does not serve \
                 ({cause}); hint: list the served versions with `go list -m -versions {module}`"
            )
        })?;
    }
    Ok(())
}

fn module_served(module: &str, version: &str) -> Result<(), String> {
    let output = std::process::Command::new("go")
        .args(["list", "-m", "-json", &format!("{module}@{version}")])
        .current_dir(std::env::temp_dir())
        .env("GOFLAGS", "-mod=mod")
        .env("GONOSUMDB", module)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run go: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(stderr
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("go list failed")
        .trim()
        .to_string())
}

impl Matrix {
    pub fn load(path: &Path) -> anyhow::Result<Matrix> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the matrix {}", path.display()))?;
        let mut matrix =
            Matrix::parse(&text).with_context(|| format!("matrix {}", path.display()))?;
        matrix.dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        for topology in &matrix.topologies {
            if let Some(config) = &topology.kind_config {
                let resolved = matrix.dir.join(config);
                anyhow::ensure!(
                    resolved.is_file(),
                    "matrix {}: topology {}: kind_config {} is not a file; hint: paths are \
                     relative to the matrix file",
                    path.display(),
                    topology.name,
                    resolved.display()
                );
            }
        }
        Ok(matrix)
    }

    /// Parses and checks: versions look like versions, names are unique
    /// and folder-safe, scenarios exist.
    pub fn parse(text: &str) -> anyhow::Result<Matrix> {
        let matrix: Matrix = serde_yaml::from_str(text).map_err(|e| {
            anyhow::anyhow!(
                "{e}; hint: fields are kubernetes, openkruise (version, module_sum), runtimes \
                 (name, containerd), topologies (name, kind_config), profiles (name, \
                 kruise_feature_gates, upgrade_from, scenarios, runtimes, topologies), scenarios"
            )
        })?;
        anyhow::ensure!(
            !matrix.kubernetes.is_empty() && !matrix.openkruise.is_empty(),
            "the matrix needs at least one Kubernetes and one OpenKruise version"
        );
        for version in matrix
            .kubernetes
            .iter()
            .chain(matrix.openkruise.iter().map(|k| &k.version))
        {
            anyhow::ensure!(
                is_release(version),
                "{version:?} is not a release version; hint: write vMAJOR.MINOR.PATCH, e.g. v1.34.4"
            );
        }
        for kruise in &matrix.openkruise {
            anyhow::ensure!(
                kruise.module_sum.starts_with("h1:"),
                "OpenKruise {}: module_sum {:?} is not an h1: hash; hint: `go mod download -json \
                 github.com/openkruise/kruise@{}` prints it as Sum",
                kruise.version,
                kruise.module_sum,
                kruise.version
            );
        }
        let axis_names = matrix
            .profiles
            .iter()
            .map(|p| ("profile", &p.name))
            .chain(matrix.runtimes.iter().map(|r| ("runtime", &r.name)))
            .chain(matrix.topologies.iter().map(|t| ("topology", &t.name)));
        for (axis, name) in axis_names {
            anyhow::ensure!(
                folder_safe(name),
                "{axis} name {name:?}: use letters, digits, '-' and '.'"
            );
        }
        for runtime in &matrix.runtimes {
            anyhow::ensure!(
                runtime.containerd == "debian"
                    || (is_release(&runtime.containerd) && runtime.containerd.starts_with("v2.")),
                "runtime {}: containerd {:?} is neither \"debian\" nor a containerd 2.x release; \
                 hint: write v2.MINOR.PATCH, e.g. v2.2.9",
                runtime.name,
                runtime.containerd
            );
        }
        for profile in &matrix.profiles {
            let unknown = profile
                .runtimes
                .iter()
                .filter(|n| !matrix.runtimes_or_default().iter().any(|r| r.name == **n))
                .chain(
                    profile
                        .topologies
                        .iter()
                        .filter(|n| !matrix.topologies_or_default().iter().any(|t| t.name == **n)),
                )
                .next();
            if let Some(name) = unknown {
                anyhow::bail!(
                    "profile {}: no runtime or topology named {name:?} in the matrix",
                    profile.name
                );
            }
        }
        for name in matrix
            .scenarios
            .iter()
            .chain(matrix.profiles.iter().flat_map(|p| &p.scenarios))
        {
            catalog::find(name)?;
        }
        for profile in &matrix.profiles {
            let Some(from) = &profile.upgrade_from else {
                continue;
            };
            anyhow::ensure!(
                is_release(&from.version) && from.module_sum.starts_with("h1:"),
                "profile {}: upgrade_from needs a release version and its h1: module_sum",
                profile.name
            );
            anyhow::ensure!(
                matrix.openkruise.iter().any(|k| k.version != from.version),
                "profile {}: upgrade_from {} is the matrix's only OpenKruise version: nothing to \
                 upgrade it to; hint: list the version to upgrade to under openkruise",
                profile.name,
                from.version
            );
        }
        let cells = matrix.cells();
        let mut names: Vec<&str> = cells.iter().map(|c| c.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        anyhow::ensure!(
            names.len() == cells.len(),
            "the matrix names a version or profile twice"
        );
        Ok(matrix)
    }

    fn runtimes_or_default(&self) -> Vec<Runtime> {
        if self.runtimes.is_empty() {
            vec![default_runtime()]
        } else {
            self.runtimes.clone()
        }
    }

    fn topologies_or_default(&self) -> Vec<Topology> {
        if self.topologies.is_empty() {
            vec![default_topology()]
        } else {
            self.topologies.clone()
        }
    }

    /// Every cell: Kubernetes outermost, then OpenKruise, runtime,
    /// topology, profile.
    pub fn cells(&self) -> Vec<Cell> {
        let mut cells = Vec::new();
        for kubernetes in &self.kubernetes {
            for openkruise in &self.openkruise {
                for runtime in self.runtimes_or_default() {
                    for topology in self.topologies_or_default() {
                        // An upgrade from a release to itself is no upgrade.
                        for profile in self.profiles.iter().filter(|p| {
                            p.crosses(&runtime, &topology)
                                && p.upgrade_from
                                    .as_ref()
                                    .is_none_or(|from| from.version != openkruise.version)
                        }) {
                            cells.push(Cell {
                                name: self.cell_name(
                                    kubernetes,
                                    &openkruise.version,
                                    &runtime,
                                    &topology,
                                    profile,
                                ),
                                kubernetes: kubernetes.clone(),
                                openkruise: openkruise.clone(),
                                runtime: runtime.clone(),
                                topology: topology.clone(),
                                profile: profile.clone(),
                            });
                        }
                    }
                }
            }
        }
        cells
    }

    /// The axes the matrix lists appear in the name; absent ones do not,
    /// so a matrix without them keeps its cells' names.
    fn cell_name(
        &self,
        kubernetes: &str,
        openkruise: &str,
        runtime: &Runtime,
        topology: &Topology,
        profile: &Profile,
    ) -> String {
        let mut name = format!("k8s-{kubernetes}-kruise-{openkruise}");
        if !self.runtimes.is_empty() {
            name.push_str(&format!("-{}", runtime.name));
        }
        if !self.topologies.is_empty() {
            name.push_str(&format!("-{}", topology.name));
        }
        format!("{name}-{}", profile.name)
    }

    pub fn scenarios(&self) -> anyhow::Result<Vec<&'static Scenario>> {
        if self.scenarios.is_empty() {
            return Ok(catalog::default_selection());
        }
        self.scenarios.iter().map(|n| catalog::find(n)).collect()
    }

    /// What a cell of `profile` runs: the profile's own selection, else the
    /// upgrade profile for an upgrade, else the matrix's.
    pub fn scenarios_of(&self, profile: &Profile) -> anyhow::Result<Vec<&'static Scenario>> {
        if !profile.scenarios.is_empty() {
            return profile.scenarios.iter().map(|n| catalog::find(n)).collect();
        }
        if profile.upgrade_from.is_some() {
            return Ok(catalog::upgrade_profile());
        }
        self.scenarios()
    }

    /// The cells to run: those named, else this shard's, else all.
    pub fn select(&self, named: &[String], shard: Option<Shard>) -> anyhow::Result<Vec<Cell>> {
        let cells = self.cells();
        if !named.is_empty() {
            return named
                .iter()
                .map(|n| {
                    cells
                        .iter()
                        .find(|c| c.name == *n)
                        .cloned()
                        .with_context(|| {
                            format!(
                                "no cell {n:?} in the matrix; hint: cells are {}",
                                cells
                                    .iter()
                                    .map(|c| c.name.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )
                        })
                })
                .collect();
        }
        Ok(match shard {
            None => cells,
            Some(shard) => cells
                .into_iter()
                .enumerate()
                .filter(|(i, _)| i % shard.count == shard.index - 1)
                .map(|(_, c)| c)
                .collect(),
        })
    }
}

fn is_release(version: &str) -> bool {
    let Some(rest) = version.strip_prefix('v') else {
        return false;
    };
    let parts: Vec<&str> = rest.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

fn folder_safe(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

/// `--shard i/n`: the i-th of n (1-based) slices of the cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(text: &str) -> Result<Shard, String> {
        let parsed = text
            .split_once('/')
            .and_then(|(i, n)| Some((i.parse().ok()?, n.parse().ok()?)));
        match parsed {
            Some((index, count)) if count > 0 && (1..=count).contains(&index) => {
                Ok(Shard { index, count })
            }
            _ => Err(format!("{text:?}: expected i/n with 1 <= i <= n, e.g. 2/4")),
        }
    }
}

pub use crate::model::cell::{CELL_FILE, CellSummary};

/// Runs one cell into `dir`; an infrastructure failure is written into
/// `cell.json` (and returned as such), never raised.
pub async fn run_cell(
    base: &RunConfig,
    cell: &Cell,
    matrix: &Matrix,
    dir: &Path,
    jobs: usize,
    keep_cluster: bool,
) -> CellSummary {
    let started = Instant::now();
    let scenarios = matrix.scenarios_of(&cell.profile).unwrap_or_default();
    let mut summary = CellSummary {
        name: cell.name.clone(),
        kubernetes: cell.kubernetes.clone(),
        openkruise: cell.openkruise.version.clone(),
        profile: cell.profile.name.clone(),
        runtime: cell.runtime.name.clone(),
        topology: cell.topology.name.clone(),
        cluster: format!("ipc-q-{}", crate::short_id()),
        started_at: crate::now_rfc3339(),
        wall_seconds: 0.0,
        build_seconds: 0.0,
        scenarios: scenarios.iter().map(|s| s.name.to_string()).collect(),
        infrastructure_error: None,
    };
    let env = cell_env(cell, matrix);
    let progress = |m: &str| crate::model::event::note(&cell.name, m);
    crate::run::cleanup::on_interrupt(|plan| {
        plan.repo_root = base.repo_root.clone();
        plan.run_id = base.run_id.clone();
        plan.kubeconfig = None;
        plan.delete_cluster = (!keep_cluster).then(|| summary.cluster.clone());
    });
    progress("building what is missing (scripts/bootstrap; cached per version)");
    let built = Instant::now();
    let outcome = async {
        script(&base.repo_root, "bootstrap", &[], &env, &cell.name)
            .await
            .context("scripts/bootstrap failed")?;
        if let Some(from) = &cell.profile.upgrade_from {
            progress(&format!(
                "building OpenKruise {} too (installed first)",
                from.version
            ));
            script(
                &base.repo_root,
                "bootstrap",
                &["--only", "kruise"],
                &install_env(cell, matrix),
                &cell.name,
            )
            .await
            .context("scripts/bootstrap --only kruise failed")?;
        }
        summary.build_seconds = built.elapsed().as_secs_f64();
        progress(&format!(
            "cluster {} (kind, {})",
            summary.cluster, cell.kubernetes
        ));
        let mut up = vec!["up", "--name", summary.cluster.as_str()];
        let kind_config = cell
            .topology
            .kind_config
            .as_ref()
            .map(|c| matrix.dir.join(c).display().to_string());
        if let Some(config) = &kind_config {
            up.extend(["--config", config]);
        }
        let printed = script(
            &base.repo_root,
            "cluster",
            &up,
            &install_env(cell, matrix),
            &cell.name,
        )
        .await
        .context("scripts/cluster up failed")?;
        let kubeconfig = crate::environment::cluster::parse_kubeconfig_line(&printed)
            .context("scripts/cluster up printed no KUBECONFIG= line")?;
        let mut config = base.clone();
        config.cluster = ClusterSource::Kubeconfig {
            path: kubeconfig,
            kind_node: Some(summary.cluster.clone()),
        };
        config.output_dir = dir.to_path_buf();
        config.cell = cell.name.clone();
        config.link_latest = false;
        config.kruise_upgrade = cell
            .profile
            .upgrade_from
            .is_some()
            .then(|| cell.openkruise.clone());
        verify_versions(&config, cell).await?;
        config.prepare_run_dir()?;
        progress(&format!("running {} scenario(s)", scenarios.len()));
        let plans = crate::scenarios::plan::ScenarioPlan::all(&config.repo_root, &scenarios)?;
        crate::model::event::emit(crate::model::event::Event::RunStarted {
            run_id: format!("{} cell {}", base.run_id, cell.name),
            output_dir: dir.display().to_string(),
            scenarios: plans.len(),
        });
        crate::run::batch::run_scenarios(&config, &plans, jobs).await;
        Ok::<(), anyhow::Error>(())
    }
    .await;
    if let Err(err) = outcome {
        let err = crate::observe::kruise::error_text(&err);
        progress(&format!("infrastructure failure: {err}"));
        summary.infrastructure_error = Some(err);
    }
    if keep_cluster {
        progress(&format!("kept cluster {}", summary.cluster));
    } else if let Err(err) =
        crate::environment::cluster::delete(&base.repo_root, &summary.cluster).await
    {
        progress(&format!("warning: {err:#}"));
    }
    summary.wall_seconds = started.elapsed().as_secs_f64();
    if let Err(err) = write_summary(dir, &summary) {
        progress(&format!("warning: {err:#}"));
    }
    summary
}

/// The cluster really runs the cell's versions (a cached image under the
/// wrong tag would otherwise qualify the wrong release).
async fn verify_versions(config: &RunConfig, cell: &Cell) -> anyhow::Result<()> {
    let cluster = config.acquire_cluster().await?;
    let client = cluster.client().await?;
    let server = client.apiserver_version().await?.git_version;
    anyhow::ensure!(
        server == cell.kubernetes,
        "the cluster's API server reports {server}, the cell asks for {}",
        cell.kubernetes
    );
    let kruise = crate::observe::kruise::installed_version(&client).await;
    let wanted = &cell.profile.installs(&cell.openkruise).version;
    anyhow::ensure!(
        kruise.as_deref() == Some(wanted.as_str()),
        "the cluster runs OpenKruise {kruise:?}, the cell asks for {wanted} first"
    );
    Ok(())
}

fn write_summary(dir: &Path, summary: &CellSummary) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(CELL_FILE);
    std::fs::write(&path, serde_json::to_string_pretty(summary)?)
        .with_context(|| format!("writing {}", path.display()))
}

/// The environment `scripts/bootstrap` and `scripts/cluster` read for a
/// cell: versions, the module pin, extra kruise gates. Image names are left
/// for scripts/env.sh to derive from the versions.
fn cell_env(cell: &Cell, _matrix: &Matrix) -> Vec<(String, String)> {
    let mut env = vec![
        ("K8S_VERSION".to_string(), cell.kubernetes.clone()),
        ("KRUISE_VERSION".into(), cell.openkruise.version.clone()),
        (
            "KRUISE_MODULE_SUM".into(),
            cell.openkruise.module_sum.clone(),
        ),
        ("CONTAINERD_VERSION".into(), cell.runtime.containerd.clone()),
    ];
    if !cell.profile.kruise_feature_gates.is_empty() {
        let gates: Vec<String> = cell
            .profile
            .kruise_feature_gates
            .iter()
            .map(|(g, on)| format!("{g}={on}"))
            .collect();
        env.push(("IPC_KRUISE_GATES".into(), gates.join(",")));
    }
    env
}

/// The environment for creating the cell's cluster: the release its
/// profile installs first.
fn install_env(cell: &Cell, matrix: &Matrix) -> Vec<(String, String)> {
    let release = cell.profile.installs(&cell.openkruise);
    let mut env = cell_env(cell, matrix);
    for (key, value) in &mut env {
        match key.as_str() {
            "KRUISE_VERSION" => *value = release.version.clone(),
            "KRUISE_MODULE_SUM" => *value = release.module_sum.clone(),
            _ => {}
        }
    }
    env
}

/// Runs a project script with the cell's environment, its progress
/// relayed as the cell's events; its stdout is returned.
async fn script(
    repo_root: &Path,
    script: &str,
    args: &[&str],
    env: &[(String, String)],
    cell: &str,
) -> anyhow::Result<String> {
    let ran = Script::project(repo_root, script)
        .args(args)
        // Names derived from versions must come from the cell's versions.
        .env_remove(&[
            "IPC_NODE_IMAGE",
            "IPC_KRUISE_IMAGE",
            "IPC_K8S_BIN",
            "IPC_KIND_BIN",
        ])
        .env(env)
        .relay(cell)
        .relay_stdout()
        .run()
        .await?;
    Ok(ran.stdout)
}

/// Cell folders under `dirs`: each one holding `cell.json`, or a run folder
/// holding `cells/*/cell.json`.
pub fn find_cells(dirs: &[PathBuf]) -> anyhow::Result<Vec<(PathBuf, CellSummary)>> {
    let mut found = Vec::new();
    for dir in dirs {
        let candidates: Vec<PathBuf> = if dir.join(CELL_FILE).is_file() {
            vec![dir.clone()]
        } else {
            let cells = dir.join("cells");
            let mut list: Vec<PathBuf> = std::fs::read_dir(&cells)
                .with_context(|| {
                    format!(
                        "{} holds no {CELL_FILE} and no cells/; hint: name cell folders or \
                         qualify run folders",
                        dir.display()
                    )
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.join(CELL_FILE).is_file())
                .collect();
            list.sort();
            list
        };
        for path in candidates {
            let file = path.join(CELL_FILE);
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let summary: CellSummary = serde_json::from_str(&text)
                .with_context(|| format!("parsing {}", file.display()))?;
            found.push((path, summary));
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MATRIX: &str = "
kubernetes: [v1.34.4, v1.35.4]
openkruise:
  - {version: v1.9.0, module_sum: 'h1:a='}
  - {version: v1.8.2, module_sum: 'h1:b='}
";

    #[test]
    fn cells_are_the_product_with_kubernetes_outermost() {
        let matrix = Matrix::parse(MATRIX).unwrap();
        let names: Vec<String> = matrix.cells().into_iter().map(|c| c.name).collect();
        assert_eq!(
            names,
            [
                "k8s-v1.34.4-kruise-v1.9.0-default",
                "k8s-v1.34.4-kruise-v1.8.2-default",
                "k8s-v1.35.4-kruise-v1.9.0-default",
                "k8s-v1.35.4-kruise-v1.8.2-default",
            ]
        );
        assert_eq!(
            matrix.scenarios().unwrap().len(),
            catalog::default_selection().len()
        );
    }

    #[test]
    fn shards_split_the_cells_without_overlap() {
        let matrix = Matrix::parse(MATRIX).unwrap();
        let shard = |s: &str| matrix.select(&[], Some(s.parse().unwrap())).unwrap();
        let (first, second) = (shard("1/2"), shard("2/2"));
        assert_eq!(first.len() + second.len(), 4);
        assert!(first.iter().all(|c| !second.contains(c)));
        assert_eq!(shard("3/3").len(), 1);
        for bad in ["0/2", "3/2", "1/0", "x", "1-2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    /// An upgrade profile makes no cell where it would upgrade a release to
    /// itself, runs the upgrade profile there, and a profile with nothing
    /// to upgrade to is refused.
    #[test]
    fn upgrade_cells_go_from_another_release() {
        let text = format!(
            "{MATRIX}profiles:\n  - name: default\n  - name: upgrade\n    upgrade_from: \
             {{version: v1.8.2, module_sum: 'h1:b='}}\n"
        );
        let matrix = Matrix::parse(&text).unwrap();
        let upgrades: Vec<Cell> = matrix
            .cells()
            .into_iter()
            .filter(|c| c.profile.name == "upgrade")
            .collect();
        let names: Vec<&str> = upgrades.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "k8s-v1.34.4-kruise-v1.9.0-upgrade",
                "k8s-v1.35.4-kruise-v1.9.0-upgrade"
            ]
        );
        let cell = &upgrades[0];
        assert_eq!(cell.profile.installs(&cell.openkruise).version, "v1.8.2");
        assert_eq!(
            install_env(cell, &matrix)
                .iter()
                .find(|(k, _)| k == "KRUISE_VERSION")
                .map(|(_, v)| v.as_str()),
            Some("v1.8.2")
        );
        let names: Vec<&str> = matrix
            .scenarios_of(&cell.profile)
            .unwrap()
            .iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(
            names,
            [
                "upgrade-cloneset",
                "upgrade-asts",
                "upgrade-ads",
                "upgrade-sidecarset"
            ]
        );
        let only = "kubernetes: [v1.34.4]\nopenkruise: [{version: v1.9.0, module_sum: 'h1:a='}]\n\
                    profiles: [{name: up, upgrade_from: {version: v1.9.0, module_sum: 'h1:a='}}]\n";
        let err = format!("{:#}", Matrix::parse(only).unwrap_err());
        assert!(err.contains("nothing to upgrade it to"), "{err}");
    }

    /// The runtime and topology axes cross every profile that does not
    /// name its own, appear in the cell names, and reach the cell's
    /// environment and kind config; the shipped matrix has the cell the
    /// issue asks for.
    #[test]
    fn runtime_and_topology_axes_cross_the_profiles() {
        let text = format!(
            "{MATRIX}runtimes:\n  - {{name: containerd-1.6, containerd: debian}}\n  - {{name: \
             containerd-2.2, containerd: v2.2.9}}\ntopologies:\n  - {{name: single-node}}\n  - \
             {{name: multi-node, kind_config: multi.yaml}}\nprofiles:\n  - name: default\n  - \
             name: upgrade\n    topologies: [single-node]\n    runtimes: [containerd-2.2]\n    \
             upgrade_from: {{version: v1.8.2, module_sum: 'h1:b='}}\n"
        );
        let matrix = Matrix::parse(&text).unwrap();
        let cells = matrix.cells();
        // 2 Kubernetes x (2 OpenKruise x 2 runtimes x 2 topologies default
        // + 1 upgrade cell: to v1.9.0, containerd 2.2, one node).
        assert_eq!(cells.len(), 2 * (2 * 2 * 2 + 1));
        let cell = cells
            .iter()
            .find(|c| c.name == "k8s-v1.35.4-kruise-v1.9.0-containerd-2.2-multi-node-default")
            .unwrap();
        let env: BTreeMap<String, String> = cell_env(cell, &matrix).into_iter().collect();
        assert_eq!(env["CONTAINERD_VERSION"], "v2.2.9");
        assert_eq!(
            cell.topology.kind_config.as_deref(),
            Some(Path::new("multi.yaml"))
        );
        let upgrades: Vec<&str> = cells
            .iter()
            .filter(|c| c.profile.name == "upgrade")
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(
            upgrades,
            [
                "k8s-v1.34.4-kruise-v1.9.0-containerd-2.2-single-node-upgrade",
                "k8s-v1.35.4-kruise-v1.9.0-containerd-2.2-single-node-upgrade"
            ]
        );
        assert!(cell.describe().contains("containerd v2.2.9, multi-node"));

        let shipped =
            Matrix::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("release/matrix.yaml"))
                .unwrap();
        assert!(
            shipped.cells().iter().any(|c| c.kubernetes == "v1.35.4"
                && c.openkruise.version == "v1.9.0"
                && c.runtime.containerd.starts_with("v2.")
                && c.topology.name == "multi-node"),
            "release/matrix.yaml lacks Kubernetes 1.35.4 x OpenKruise 1.9.0 x containerd 2.x x \
             multi-node"
        );
    }

    #[test]
    fn a_named_cell_must_exist() {
        let matrix = Matrix::parse(MATRIX).unwrap();
        let one = matrix
            .select(&["k8s-v1.35.4-kruise-v1.8.2-default".into()], None)
            .unwrap();
        assert_eq!(one[0].openkruise.version, "v1.8.2");
        let err = matrix.select(&["k8s-v9".into()], None).unwrap_err();
        assert!(format!("{err:#}").contains("hint: cells are"));
    }

    #[test]
    fn malformed_matrices_are_refused_with_a_reason() {
        let refused = |text: &str| format!("{:#}", Matrix::parse(text).unwrap_err());
        assert!(refused("kubernetes: [v1.34.4]\nopenkruise: []\n").contains("at least one"));
        assert!(
            refused("kubernetes: [1.34]\nopenkruise: [{version: v1.9.0, module_sum: 'h1:x'}]\n")
                .contains("not a release version")
        );
        assert!(
            refused("kubernetes: [v1.34.4]\nopenkruise: [{version: v1.9.0, module_sum: x}]\n")
                .contains("not an h1: hash")
        );
        assert!(refused(&format!("{MATRIX}kubernets: [v1]\n")).contains("hint: fields are"));
        assert!(refused(&format!("{MATRIX}scenarios: [nope]\n")).contains("nope"));
        assert!(refused("kubernetes: [v1.34.4, v1.34.4]\nopenkruise: [{version: v1.9.0, module_sum: 'h1:x'}]\n")
            .contains("twice"));
        assert!(
            refused(&format!(
                "{MATRIX}runtimes: [{{name: c, containerd: '1.7.0'}}]\n"
            ))
            .contains("neither \"debian\" nor a containerd 2.x release")
        );
        assert!(
            refused(&format!(
                "{MATRIX}profiles: [{{name: p, topologies: [huge]}}]\n"
            ))
            .contains("no runtime or topology named \"huge\"")
        );
    }

    #[test]
    fn the_cell_environment_carries_versions_and_gates() {
        let mut matrix = Matrix::parse(MATRIX).unwrap();
        matrix.profiles[0]
            .kruise_feature_gates
            .insert("InPlaceWorkloadVerticalScaling".into(), false);
        let cell = &matrix.cells()[3];
        let env: BTreeMap<String, String> = cell_env(cell, &matrix).into_iter().collect();
        assert_eq!(env["K8S_VERSION"], "v1.35.4");
        assert_eq!(env["KRUISE_VERSION"], "v1.8.2");
        assert_eq!(env["KRUISE_MODULE_SUM"], "h1:b=");
        assert_eq!(
            env["IPC_KRUISE_GATES"],
            "InPlaceWorkloadVerticalScaling=false"
        );
    }
}
