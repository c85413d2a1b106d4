//! What a run needs to know: where the cluster comes from, where output
//! goes, how images are delivered, how long each kind of wait may take.
//! [`RunConfig::from_env`] for the suites; the CLI builds it from flags.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::ValueEnum;

use crate::environment::cluster::ClusterSource;
use crate::model::record::ImageDelivery;

/// Named per-operation timeouts (chainsaw-style), one place to tune them;
/// `INPLACE_TIMEOUT_SCALE` multiplies them all for slow machines.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Workload created -> first pods ready (includes the first image pull).
    pub ready: Duration,
    /// Change applied -> update complete.
    pub update: Duration,
    /// One exec round trip.
    pub exec: Duration,
    /// Namespace deletion.
    pub cleanup: Duration,
    /// Events expected shortly after completion (kruise, kubelet).
    pub events: Duration,
    /// After completion, how long the pods are at least watched for what
    /// must not happen (a late or second restart); absence can only be
    /// shown over a window. Longer than the longest gap measured here
    /// between two restarts one change caused in one pod (3.2 s,
    /// container-priority's ordered restarts, over 229 recorded steps).
    pub quiet: Duration,
    /// The window also lasts until this long after the change was
    /// accepted, so that a restart an early "done" missed still shows:
    /// 1.5 times the latest restart any change caused here after its
    /// acceptance (5.8 s, env-from-metadata through kruise-daemon; grace
    /// periods excepted, which `done` always waits out).
    pub restart_horizon: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            ready: Duration::from_secs(240),
            update: Duration::from_secs(240),
            exec: Duration::from_secs(30),
            cleanup: Duration::from_secs(180),
            events: Duration::from_secs(20),
            quiet: Duration::from_secs(4),
            restart_horizon: Duration::from_secs(9),
        }
    }
}

impl Timeouts {
    /// How long a measurement that runs alone waits for the scenarios
    /// beside it: as long as one of them may still take (its deploy and
    /// three changes, the most any scenario makes).
    pub fn others_ending(&self) -> Duration {
        self.ready + self.update * 3
    }

    pub fn scaled(self, factor: f64) -> Timeouts {
        let s = |d: Duration| d.mul_f64(factor);
        Timeouts {
            ready: s(self.ready),
            update: s(self.update),
            exec: s(self.exec),
            cleanup: s(self.cleanup),
            events: s(self.events),
            quiet: s(self.quiet),
            restart_horizon: s(self.restart_horizon),
        }
    }
}

#[derive(Debug, Clone)]
pub struct RunConfig {
    pub cluster: ClusterSource,
    pub repo_root: PathBuf,
    /// This run's folder, `<base>/<run-id>`: observations/, diagnostics/,
    /// report.md, report.json, results.json, junit.xml. A report only ever
    /// shows the observations of its own run.
    pub output_dir: PathBuf,
    pub run_id: String,
    pub keep_on_failure: bool,
    pub delivery: ImageDelivery,
    /// The user's registry for `ImageDelivery::External`.
    pub image_registry: Option<String>,
    /// The name the nodes pull that registry's images by, when it is not
    /// the one the suite pushes to (an in-cluster registry behind a
    /// NodePort: pushed to its Service, pulled from `localhost:<port>`).
    pub image_pull_registry: Option<String>,
    /// The matrix cell this run is part of (`qualify`), else empty.
    pub cell: String,
    /// Point `<base>/latest` at this run (a matrix cell's folder is not a run).
    pub link_latest: bool,
    pub timeouts: Timeouts,
    /// The OpenKruise release the `upgrade` profile moves the cluster to
    /// (qualify's upgrade cells; `run --kruise-upgrade-to`).
    pub kruise_upgrade: Option<crate::model::cell::KruiseRelease>,
    /// The kind config of a named cluster this run creates
    /// (`INPLACE_KIND_CONFIG`, `run --kind-config`; default
    /// kind-config/single-node.yaml).
    pub kind_config: Option<PathBuf>,
}

impl RunConfig {
    /// The run's cluster, brought up or reached as this config says.
    pub async fn acquire_cluster(
        &self,
    ) -> Result<crate::environment::cluster::Cluster, crate::environment::cluster::NoCluster> {
        crate::environment::cluster::acquire(
            &self.cluster,
            &self.repo_root,
            &self.locks_dir(),
            self.kind_config.as_deref(),
        )
        .await
    }

    /// Reads INPLACE_KUBECONFIG, INPLACE_CLUSTER, INPLACE_KEEP_ON_FAILURE,
    /// INPLACE_IMAGE_DELIVERY, INPLACE_IMAGE_REGISTRY (a registry the nodes
    /// pull from; implies external delivery), INPLACE_IMAGE_PULL_REGISTRY
    /// (the nodes' name for it, if another), INPLACE_TIMEOUT_SCALE,
    /// INPLACE_REPO_ROOT, INPLACE_KIND_CONFIG,
    /// INPLACE_OUTPUT_DIR (the base folder, default `target/conformance`) and
    /// INPLACE_RUN_ID (`scripts/test` and the CLI set a fresh one; a bare
    /// `cargo test` uses `cargo-test-<pid of cargo>`, shared by its test
    /// binaries).
    pub fn from_env() -> anyhow::Result<RunConfig> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let repo_root = var("INPLACE_REPO_ROOT")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
        let base = var("INPLACE_OUTPUT_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| default_output_dir(&repo_root));
        let run_id = match var("INPLACE_RUN_ID") {
            Some(id) => checked_run_id(&id)?,
            None => format!("cargo-test-{}", std::os::unix::process::parent_id()),
        };
        let image_registry = var("INPLACE_IMAGE_REGISTRY");
        let delivery = match (var("INPLACE_IMAGE_DELIVERY"), &image_registry) {
            (None, Some(_)) => ImageDelivery::External,
            (None, None) => ImageDelivery::Registry,
            (Some(text), None) => parse_delivery(&text)?,
            (Some(text), Some(_)) => anyhow::bail!(
                "INPLACE_IMAGE_DELIVERY={text} and INPLACE_IMAGE_REGISTRY are both set; hint: \
                 naming a registry chooses the delivery, unset one of them"
            ),
        };
        if let Some(reference) = &image_registry {
            crate::environment::images::check_registry_ref(reference)?;
        }
        let image_pull_registry = var("INPLACE_IMAGE_PULL_REGISTRY");
        check_pull_registry(image_registry.as_deref(), image_pull_registry.as_deref())?;
        let scale = match var("INPLACE_TIMEOUT_SCALE") {
            None => 1.0,
            Some(text) => parse_scale(&text)?,
        };
        Ok(RunConfig {
            cluster: ClusterSource::from_env(),
            repo_root,
            output_dir: base.join(&run_id),
            run_id,
            keep_on_failure: var("INPLACE_KEEP_ON_FAILURE").is_some_and(|v| v == "1"),
            delivery,
            image_registry,
            image_pull_registry,
            cell: String::new(),
            link_latest: true,
            timeouts: Timeouts::default().scaled(scale),
            kruise_upgrade: None,
            kind_config: var("INPLACE_KIND_CONFIG").map(PathBuf::from),
        })
    }

    /// How images reach a cluster (whose nodes the suite may reach, or not).
    pub fn image_route(&self, node_access: bool) -> crate::environment::images::Route<'_> {
        crate::environment::images::Route {
            run_id: &self.run_id,
            delivery: self.delivery,
            registry: self.image_registry.as_deref(),
            pull_as: self.image_pull_registry.as_deref(),
            node_access,
        }
    }

    /// Switches to another run folder under the same base.
    pub fn with_run_id(mut self, run_id: &str) -> anyhow::Result<RunConfig> {
        let base = self.base_dir();
        self.run_id = checked_run_id(run_id)?;
        self.output_dir = base.join(&self.run_id);
        Ok(self)
    }

    pub fn base_dir(&self) -> PathBuf {
        self.output_dir
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    }

    /// Creates the run folder and points `<base>/latest` at it (a relative
    /// symlink, replaced atomically).
    pub fn prepare_run_dir(&self) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.output_dir)
            .with_context(|| format!("creating {}", self.output_dir.display()))?;
        if !self.link_latest {
            return Ok(());
        }
        let base = self.base_dir();
        let tmp = base.join(format!(".latest.{}", crate::short_id()));
        std::os::unix::fs::symlink(&self.run_id, &tmp)
            .with_context(|| format!("linking {}", tmp.display()))?;
        std::fs::rename(&tmp, base.join("latest"))
            .with_context(|| format!("pointing {}/latest at {}", base.display(), self.run_id))?;
        Ok(())
    }

    pub fn observations_dir(&self) -> PathBuf {
        self.output_dir.join("observations")
    }

    /// A run that stopped before its first scenario leaves no folder behind
    /// (the cluster lock is all it would hold).
    pub fn discard_empty_run_dir(&self) {
        let _ = std::fs::remove_dir_all(self.locks_dir());
        let _ = std::fs::remove_dir(&self.output_dir);
    }

    pub fn locks_dir(&self) -> PathBuf {
        self.output_dir.join("locks")
    }

    pub fn diagnostics_dir(&self) -> PathBuf {
        self.output_dir.join("diagnostics")
    }
}

pub fn default_output_dir(repo_root: &Path) -> PathBuf {
    repo_root.join("target/conformance")
}

/// A fresh run id: UTC time and a random suffix, sortable.
pub fn new_run_id() -> String {
    let now = k8s_openapi::jiff::Timestamp::now();
    format!("{}-{}", now.strftime("%Y%m%dT%H%M%SZ"), crate::short_id())
}

/// A run id names a folder: letters, digits, `-`, `_`, `.`; not `latest`.
fn checked_run_id(id: &str) -> anyhow::Result<String> {
    let ok = !id.is_empty()
        && id != "latest"
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    anyhow::ensure!(
        ok,
        "INPLACE_RUN_ID={id:?}: a run id is a folder name of letters, digits, '-', '_' and '.'"
    );
    Ok(id.to_string())
}

/// A pull name is the name of a pushed-to registry: it needs one.
pub fn check_pull_registry(push: Option<&str>, pull: Option<&str>) -> anyhow::Result<()> {
    let Some(pull) = pull else { return Ok(()) };
    anyhow::ensure!(
        push.is_some(),
        "--image-pull-registry {pull} names how the nodes reach --image-registry, which is not \
         set; hint: give both (e.g. --image-registry http://registry.NS.svc:5000 \
         --image-pull-registry localhost:30500)"
    );
    crate::environment::images::check_registry_ref(pull)
}

fn parse_delivery(text: &str) -> anyhow::Result<ImageDelivery> {
    ImageDelivery::from_str(text, true).map_err(|_| {
        anyhow::anyhow!("INPLACE_IMAGE_DELIVERY={text}: expected `registry` or `preloaded`")
    })
}

fn parse_scale(text: &str) -> anyhow::Result<f64> {
    let scale: f64 = text
        .parse()
        .with_context(|| format!("INPLACE_TIMEOUT_SCALE={text}: not a number"))?;
    anyhow::ensure!(
        scale.is_finite() && scale > 0.0,
        "INPLACE_TIMEOUT_SCALE={text}: must be a positive number"
    );
    Ok(scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_names_parse_and_others_are_refused() {
        assert_eq!(parse_delivery("registry").unwrap(), ImageDelivery::Registry);
        assert_eq!(
            parse_delivery("preloaded").unwrap(),
            ImageDelivery::Preloaded
        );
        let err = parse_delivery("ftp").unwrap_err().to_string();
        assert!(err.contains("expected `registry` or `preloaded`"), "{err}");
    }

    #[test]
    fn run_ids_are_folder_names() {
        assert!(checked_run_id("20261127T154800Z-ab12cd34").is_ok());
        assert!(checked_run_id("../x").is_err());
        assert!(checked_run_id("latest").is_err());
        assert!(checked_run_id("").is_err());
        let id = new_run_id();
        assert!(checked_run_id(&id).is_ok(), "{id}");
    }

    #[test]
    fn latest_points_at_the_newest_run() {
        let base = std::env::temp_dir().join(format!("ipc-runs-{}", crate::short_id()));
        let mut config = RunConfig::from_env().unwrap();
        config.output_dir = base.join("first");
        config.run_id = "first".into();
        config.prepare_run_dir().unwrap();
        let second = config.clone().with_run_id("second").unwrap();
        second.prepare_run_dir().unwrap();
        let latest = std::fs::read_link(base.join("latest")).unwrap();
        assert_eq!(latest, PathBuf::from("second"));
        std::fs::remove_dir_all(base).unwrap();
    }

    #[test]
    fn timeouts_scale_and_bad_scales_are_refused() {
        let t = Timeouts::default().scaled(parse_scale("2").unwrap());
        assert_eq!(t.update, Duration::from_secs(480));
        assert_eq!(t.quiet, Duration::from_secs(8));
        assert!(parse_scale("0").is_err());
        assert!(parse_scale("-1").is_err());
        assert!(parse_scale("fast").is_err());
    }
}
