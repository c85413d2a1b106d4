//! Pushing the workload images without podman: `scripts/bootstrap` keeps
//! them as one OCI image layout (a directory: `oci-layout`, `index.json`,
//! `blobs/sha256/…`, one manifest per content version, named by its
//! `org.opencontainers.image.ref.name`), and the harness copies a version's
//! manifest and blobs to a registry with `oci-client` (the ORAS project's
//! OCI distribution client: maintained, async on tokio and reqwest/rustls
//! like kube, and it speaks blob mounts and plain HTTP). The bytes are
//! pushed as they are in the layout, so the manifest digest a node pulls is
//! the one bootstrap wrote.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use oci_client::{Reference, RegistryOperation};
use serde::Deserialize;
use tokio::sync::Mutex;

const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// Where the layout is: `INPLACE_IMAGE_LAYOUT`, else what bootstrap wrote
/// under the build cache.
pub fn layout_dir() -> PathBuf {
    match std::env::var_os("INPLACE_IMAGE_LAYOUT").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => crate::environment::settings::cache_dir().join("images/layouts/workload"),
    }
}

/// The layout exists and holds every content version the scenarios use
/// (bad input, before any cluster is had, if not).
pub fn check_layout(repo_root: &Path) -> anyhow::Result<()> {
    let layout = Layout::open(&layout_dir())?;
    let settings = crate::environment::settings::Settings::load(repo_root)?;
    for version in settings.workload_versions()? {
        layout.image(version)?;
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType")]
    media_type: String,
    digest: String,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct Index {
    manifests: Vec<Descriptor>,
}

#[derive(Debug, Deserialize)]
struct Manifest {
    config: Descriptor,
    layers: Vec<Descriptor>,
}

/// An OCI image layout on disk, its tags read from `index.json`.
#[derive(Debug)]
pub struct Layout {
    dir: PathBuf,
    index: Index,
}

/// One image of a layout: its manifest as stored, and the blobs it names.
#[derive(Debug, Clone)]
pub struct LayoutImage {
    pub manifest: Vec<u8>,
    pub media_type: String,
    /// Config first, then the layers.
    pub blobs: Vec<String>,
}

impl Layout {
    pub fn open(dir: &Path) -> anyhow::Result<Layout> {
        let index_path = dir.join("index.json");
        let missing = || {
            format!(
                "no OCI image layout of the workload images at {}; hint: `scripts/bootstrap \
                 --only workload` writes it, or set INPLACE_IMAGE_LAYOUT to one",
                dir.display()
            )
        };
        anyhow::ensure!(dir.join("oci-layout").is_file(), missing());
        let text = std::fs::read_to_string(&index_path).with_context(missing)?;
        let index: Index = serde_json::from_str(&text)
            .with_context(|| format!("{} is not an OCI index", index_path.display()))?;
        Ok(Layout {
            dir: dir.to_path_buf(),
            index,
        })
    }

    /// The tags the layout holds.
    pub fn tags(&self) -> Vec<&str> {
        self.index
            .manifests
            .iter()
            .filter_map(|m| m.annotations.get(REF_NAME).map(String::as_str))
            .collect()
    }

    /// The image tagged `tag` (a content version: `v1`).
    pub fn image(&self, tag: &str) -> anyhow::Result<LayoutImage> {
        let descriptor = self
            .index
            .manifests
            .iter()
            .find(|m| m.annotations.get(REF_NAME).map(String::as_str) == Some(tag))
            .with_context(|| {
                format!(
                    "the OCI layout at {} has no image {tag} (it has {}); hint: rerun \
                     `scripts/bootstrap --only workload`",
                    self.dir.display(),
                    self.tags().join(", ")
                )
            })?;
        let manifest = std::fs::read(self.blob_path(&descriptor.digest)?)
            .with_context(|| format!("reading manifest {}", descriptor.digest))?;
        let parsed: Manifest = serde_json::from_slice(&manifest)
            .with_context(|| format!("manifest {} is not an image manifest", descriptor.digest))?;
        let blobs = std::iter::once(parsed.config.digest)
            .chain(parsed.layers.into_iter().map(|l| l.digest))
            .collect();
        Ok(LayoutImage {
            manifest,
            media_type: descriptor.media_type.clone(),
            blobs,
        })
    }

    fn blob_path(&self, digest: &str) -> anyhow::Result<PathBuf> {
        let hex = digest
            .strip_prefix("sha256:")
            .filter(|h| h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit()))
            .with_context(|| format!("{digest:?} is not a sha256 digest"))?;
        Ok(self.dir.join("blobs/sha256").join(hex))
    }
}

/// A registry the harness pushes to: one client (tokens cached) and the
/// blobs already there, so that a later push under another repository
/// mounts them instead of uploading them again.
pub struct Pusher {
    client: oci_client::Client,
    auth: RegistryAuth,
    /// digest -> a reference whose repository holds it.
    pushed: Mutex<BTreeMap<String, Reference>>,
}

impl Pusher {
    /// `host` as the push reference names it (`127.0.0.1:5000`,
    /// `registry.example`); `plain_http` for a registry without TLS.
    pub fn new(host: &str, plain_http: bool) -> Pusher {
        // reqwest is built without a crypto provider of its own: building
        // any rustls config installs the one rustls's features name (ring,
        // kube's) as the process default, once.
        let _ = rustls::ClientConfig::builder();
        let config = ClientConfig {
            protocol: if plain_http {
                ClientProtocol::Http
            } else {
                ClientProtocol::Https
            },
            // One PUT per blob: the layouts' blobs are on disk whole.
            use_monolithic_push: true,
            connect_timeout: Some(std::time::Duration::from_secs(10)),
            ..Default::default()
        };
        Pusher {
            client: oci_client::Client::new(config),
            auth: registry_auth(host),
            pushed: Mutex::new(BTreeMap::new()),
        }
    }

    /// Copies the layout's image `tag` to `target` (`host/repo:tag`).
    pub async fn push(&self, layout: &Layout, tag: &str, target: &str) -> anyhow::Result<()> {
        let image = layout.image(tag)?;
        let reference: Reference = target
            .parse()
            .with_context(|| format!("{target:?} is not an image reference"))?;
        self.client
            .auth(&reference, &self.auth, RegistryOperation::Push)
            .await
            .with_context(|| format!("authenticating to {}", reference.registry()))?;
        for digest in &image.blobs {
            self.push_blob(layout, &reference, digest).await?;
        }
        let content_type = image.media_type.parse().context("manifest media type")?;
        self.client
            .push_manifest_raw(&reference, image.manifest, content_type)
            .await
            .with_context(|| format!("pushing the manifest of {target}"))?;
        Ok(())
    }

    async fn push_blob(
        &self,
        layout: &Layout,
        target: &Reference,
        digest: &str,
    ) -> anyhow::Result<()> {
        if self.client.blob_exists(target, digest).await? {
            return Ok(());
        }
        let source = self.pushed.lock().await.get(digest).cloned();
        // A blob the registry has under another repository is mounted (no
        // upload); a registry that declines the mount gets the bytes.
        let mounted = match &source {
            Some(source) => self.client.mount_blob(target, source, digest).await.is_ok(),
            None => false,
        };
        if !mounted {
            let path = layout.blob_path(digest)?;
            let data = tokio::fs::read(&path)
                .await
                .with_context(|| format!("reading {}", path.display()))?;
            self.client
                .push_blob(target, data, digest)
                .await
                .with_context(|| format!("pushing blob {digest} to {target}"))?;
        }
        self.pushed
            .lock()
            .await
            .insert(digest.to_string(), target.clone());
        Ok(())
    }
}

/// Credentials for `host` from the files container tools keep them in
/// (`REGISTRY_AUTH_FILE`, podman's `auth.json`, `DOCKER_CONFIG` or
/// `~/.docker/config.json`); anonymous when none has an entry.
pub fn registry_auth(host: &str) -> RegistryAuth {
    auth_files()
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .find_map(|text| auth_entry(&text, host))
        .unwrap_or(RegistryAuth::Anonymous)
}

fn auth_files() -> Vec<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let mut files = Vec::new();
    files.extend(var("REGISTRY_AUTH_FILE").map(PathBuf::from));
    files.extend(var("XDG_RUNTIME_DIR").map(|d| PathBuf::from(d).join("containers/auth.json")));
    files.extend(var("DOCKER_CONFIG").map(|d| PathBuf::from(d).join("config.json")));
    files.extend(var("HOME").map(|h| PathBuf::from(h).join(".docker/config.json")));
    files
}

/// `auths.<host>.auth` (base64 `user:password`) of a docker-style config.
pub fn auth_entry(config_json: &str, host: &str) -> Option<RegistryAuth> {
    use base64::Engine;
    let config: serde_json::Value = serde_json::from_str(config_json).ok()?;
    let entry = config
        .get("auths")?
        .as_object()?
        .iter()
        .find_map(|(k, v)| {
            let key = k
                .trim_start_matches("https://")
                .trim_start_matches("http://");
            (key.trim_end_matches('/') == host).then_some(v)
        })?;
    let encoded = entry.get("auth")?.as_str()?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let (user, password) = String::from_utf8(decoded)
        .ok()?
        .split_once(':')
        .map(|(u, p)| (u.to_string(), p.to_string()))?;
    Some(RegistryAuth::Basic(user, password))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_layout(dir: &Path) {
        let blobs = dir.join("blobs/sha256");
        std::fs::create_dir_all(&blobs).unwrap();
        let config = "a".repeat(64);
        let layer = "b".repeat(64);
        let manifest = format!(
            r#"{{"schemaVersion":2,"config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{config}","size":2}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:{layer}","size":3}}]}}"#
        );
        let manifest_hex = "c".repeat(64);
        std::fs::write(blobs.join(&manifest_hex), &manifest).unwrap();
        std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        std::fs::write(
            dir.join("index.json"),
            format!(
                r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{manifest_hex}","size":1,"annotations":{{"{REF_NAME}":"v1"}}}}]}}"#
            ),
        )
        .unwrap();
    }

    #[test]
    fn a_layouts_image_names_its_config_then_its_layers() {
        let dir = std::env::temp_dir().join(format!("ipc-layout-{}", crate::short_id()));
        write_layout(&dir);
        let layout = Layout::open(&dir).unwrap();
        assert_eq!(layout.tags(), ["v1"]);
        let image = layout.image("v1").unwrap();
        assert_eq!(
            image.blobs,
            [
                format!("sha256:{}", "a".repeat(64)),
                format!("sha256:{}", "b".repeat(64))
            ]
        );
        assert_eq!(
            image.media_type,
            "application/vnd.oci.image.manifest.v1+json"
        );
        let err = layout.image("v9").unwrap_err().to_string();
        assert!(err.contains("has no image v9 (it has v1)"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_missing_layout_names_the_bootstrap_step() {
        let err = Layout::open(Path::new("/nonexistent/layout"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("scripts/bootstrap --only workload"), "{err}");
        assert!(err.contains("INPLACE_IMAGE_LAYOUT"), "{err}");
    }

    #[test]
    fn credentials_come_from_a_docker_style_config() {
        // "user:secret"
        let config = r#"{"auths":{"https://registry.example:5000/":{"auth":"dXNlcjpzZWNyZXQ="}}}"#;
        match auth_entry(config, "registry.example:5000") {
            Some(RegistryAuth::Basic(user, password)) => {
                assert_eq!((user.as_str(), password.as_str()), ("user", "secret"))
            }
            other => panic!("{other:?}"),
        }
        assert!(auth_entry(config, "other.example").is_none());
        assert!(auth_entry("not json", "registry.example:5000").is_none());
    }

    /// A registry nobody answers for is an error naming it (over TLS:
    /// the client builds with the process's one crypto provider).
    #[tokio::test]
    async fn an_unreachable_registry_is_an_error_naming_it() {
        let dir = std::env::temp_dir().join(format!("ipc-layout-{}", crate::short_id()));
        write_layout(&dir);
        let layout = Layout::open(&dir).unwrap();
        for plain_http in [false, true] {
            let pusher = Pusher::new("127.0.0.1:9", plain_http);
            let err = pusher
                .push(&layout, "v1", "127.0.0.1:9/ns/workload:app-v1")
                .await
                .unwrap_err();
            assert!(format!("{err:#}").contains("127.0.0.1:9"), "{err:#}");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
