//! The project's pinned settings (versions, image names, the workload's
//! content versions) from their one home, `scripts/versions.env`: plain
//! `KEY=value` lines that `scripts/env.sh` reads too. A variable of the same
//! name in the environment overrides a value, as in the scripts. Rust reads
//! no shell file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;

pub const FILE: &str = "scripts/versions.env";

#[derive(Debug, Clone)]
pub struct Settings {
    values: BTreeMap<String, String>,
}

impl Settings {
    /// The settings of the checkout at `repo_root`, environment overrides
    /// applied.
    pub fn load(repo_root: &Path) -> anyhow::Result<Settings> {
        let path = repo_root.join(FILE);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}; hint: run from a checkout", path.display()))?;
        let mut settings = Settings::parse(&text)?;
        for (key, value) in settings.values.iter_mut() {
            if let Ok(set) = std::env::var(key)
                && !set.is_empty()
            {
                *value = set;
            }
        }
        Ok(settings)
    }

    /// `KEY=value` lines; blank lines and `#` comments skipped; anything
    /// else is refused with its line number.
    pub fn parse(text: &str) -> anyhow::Result<Settings> {
        let mut values = BTreeMap::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, value) = line
                .split_once('=')
                .filter(|(k, _)| {
                    !k.is_empty()
                        && k.chars()
                            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                })
                .with_context(|| {
                    format!("{FILE} line {}: {line:?} is not KEY=value", number + 1)
                })?;
            values.insert(key.to_string(), value.to_string());
        }
        Ok(Settings { values })
    }

    pub fn get(&self, key: &str) -> anyhow::Result<&str> {
        self.values
            .get(key)
            .map(String::as_str)
            .with_context(|| format!("{FILE} does not set {key}"))
    }

    /// The test workload's repository (its tags are the content versions).
    pub fn workload_repo(&self) -> anyhow::Result<&str> {
        self.get("WORKLOAD_REPO")
    }

    /// The content versions the workload images are built in, in order:
    /// scenarios start on the first.
    pub fn workload_versions(&self) -> anyhow::Result<Vec<&str>> {
        let versions: Vec<&str> = self.get("WORKLOAD_VERSIONS")?.split_whitespace().collect();
        anyhow::ensure!(!versions.is_empty(), "{FILE}: WORKLOAD_VERSIONS is empty");
        Ok(versions)
    }

    /// The run's registry's image.
    pub fn registry_image(&self) -> anyhow::Result<String> {
        Ok(format!(
            "{}:{}",
            self.get("REGISTRY_REPO")?,
            self.get("REGISTRY_VERSION")?
        ))
    }
}

/// Where build outputs live (`IPC_CACHE`, else the XDG cache), as in
/// `scripts/env.sh`.
pub fn cache_dir() -> PathBuf {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("IPC_CACHE") {
        return PathBuf::from(dir);
    }
    let base = var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    base.join("inplace-conformance")
}

/// The project's podman configuration (written by `scripts/bootstrap`),
/// unless the environment names one.
pub fn containers_conf() -> Option<PathBuf> {
    if std::env::var_os("CONTAINERS_CONF").is_some() {
        return None;
    }
    let path = cache_dir().join("podman/containers.conf");
    path.is_file().then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checkouts_settings_parse_and_name_the_images() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(root.join(FILE)).unwrap();
        let settings = Settings::parse(&text).unwrap();
        assert_eq!(
            settings.workload_repo().unwrap(),
            "localhost/inplace-conformance/workload"
        );
        assert!(settings.get("KRUISE_MODULE_SUM").unwrap().ends_with('='));
        assert!(
            settings
                .registry_image()
                .unwrap()
                .starts_with("localhost/inplace-conformance/registry:v")
        );
        assert_eq!(settings.workload_versions().unwrap()[0], "v1");
    }

    #[test]
    fn a_line_that_is_not_key_value_is_refused_with_its_number() {
        let err = Settings::parse("# c\nA=1\nexport B=2\n").unwrap_err();
        assert!(err.to_string().contains("line 3"), "{err}");
        assert!(Settings::parse("A=x=y").unwrap().get("A").unwrap() == "x=y");
    }
}
