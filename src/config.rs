//! What a run needs to know: where the cluster comes from, where output
//! goes, how images are delivered, how long each kind of wait may take.
//! [`RunConfig::from_env`] for the suites; the CLI builds it from flags.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::ValueEnum;

use crate::cluster::ClusterSource;
use crate::observe::ImageDelivery;

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
    /// After completion, how long the pods are watched for what must not
    /// happen (a late or second restart); absence can only be shown over a
    /// window.
    pub quiet: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            ready: Duration::from_secs(240),
            update: Duration::from_secs(240),
            exec: Duration::from_secs(30),
            cleanup: Duration::from_secs(180),
            events: Duration::from_secs(20),
            quiet: Duration::from_secs(8),
        }
    }
}

impl Timeouts {
    pub fn scaled(self, factor: f64) -> Timeouts {
        let s = |d: Duration| d.mul_f64(factor);
        Timeouts {
            ready: s(self.ready),
            update: s(self.update),
            exec: s(self.exec),
            cleanup: s(self.cleanup),
            events: s(self.events),
            quiet: s(self.quiet),
        }
    }
}

#[derive(Debug, Clone)]
pub struct RunConfig {
    pub cluster: ClusterSource,
    pub repo_root: PathBuf,
    /// `target/conformance`: observations/, report.md, report.json.
    pub output_dir: PathBuf,
    pub keep_on_failure: bool,
    pub delivery: ImageDelivery,
    pub timeouts: Timeouts,
}

impl RunConfig {
    /// Reads INPLACE_KUBECONFIG, INPLACE_CLUSTER, INPLACE_KEEP_ON_FAILURE,
    /// INPLACE_IMAGE_DELIVERY, INPLACE_TIMEOUT_SCALE, INPLACE_REPO_ROOT and
    /// INPLACE_OUTPUT_DIR.
    pub fn from_env() -> anyhow::Result<RunConfig> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let repo_root = var("INPLACE_REPO_ROOT")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
        let output_dir = var("INPLACE_OUTPUT_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| default_output_dir(&repo_root));
        let delivery = match var("INPLACE_IMAGE_DELIVERY") {
            None => ImageDelivery::Registry,
            Some(text) => parse_delivery(&text)?,
        };
        let scale = match var("INPLACE_TIMEOUT_SCALE") {
            None => 1.0,
            Some(text) => parse_scale(&text)?,
        };
        Ok(RunConfig {
            cluster: ClusterSource::from_env(),
            repo_root,
            output_dir,
            keep_on_failure: var("INPLACE_KEEP_ON_FAILURE").is_some_and(|v| v == "1"),
            delivery,
            timeouts: Timeouts::default().scaled(scale),
        })
    }

    pub fn observations_dir(&self) -> PathBuf {
        self.output_dir.join("observations")
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
    fn timeouts_scale_and_bad_scales_are_refused() {
        let t = Timeouts::default().scaled(parse_scale("2").unwrap());
        assert_eq!(t.update, Duration::from_secs(480));
        assert_eq!(t.quiet, Duration::from_secs(16));
        assert!(parse_scale("0").is_err());
        assert!(parse_scale("-1").is_err());
        assert!(parse_scale("fast").is_err());
    }
}
