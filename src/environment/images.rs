//! Getting the workload images to the kubelet.
//!
//! Default (`ImageDelivery::Registry`, as the issue asks): one OCI registry
//! container per run (testcontainers over the podman API) on the `kind`
//! network, started by the first scenario that needs it; every node's
//! containerd is pointed at it once with a `certs.d/localhost:<port>/
//! hosts.toml`. Each scenario pushes the images it needs under its own
//! repository (its namespace) and step-unique tags, so every reference is
//! new to the node and every update makes the kubelet really pull. The run
//! removes the registry at its end (`release_run_registry`, called in the
//! runtime that started it); after an interruption it is found by the run
//! label. (Until this stop a registry was started per scenario: 2 to 4 s of
//! each scenario's wall time.)
//!
//! `ImageDelivery::External` (`--image-registry REF`, for clusters that are
//! not this machine's kind clusters): the images are pushed under
//! `REF/<namespace>/workload:<slot>-<version>` to a registry the nodes
//! already pull from; nothing on the nodes is touched. `http://REF` pushes
//! without TLS verification (a plain-HTTP CI registry).
//!
//! `ImageDelivery::Preloaded`: the images are on the nodes already. On a
//! kind cluster of this machine they are `kind load`ed (`scripts/cluster
//! load-workload`); elsewhere the user loaded them under the names
//! `scripts/env.sh` gives (`IPC_WORKLOAD_IMAGE:v1`, `:v2`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use testcontainers::core::{IntoContainerPort, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};
use tokio::sync::OnceCell;

use crate::environment::oci;
use crate::environment::settings::{self, Settings};
use crate::environment::{Environment, Node};
use crate::model::record::{ImageDelivery, ImageRef};

/// podman network kind puts its nodes on.
pub const KIND_NETWORK: &str = "kind";
const REGISTRY_PORT: u16 = 5000;

pub fn local_image(repo: &str, content_version: &str) -> String {
    format!("{repo}:{content_version}")
}

/// The workload repository as the project's settings name it (what
/// bootstrap built and `kind load` loaded; tag = content version).
async fn workload_repo(repo_root: &Path) -> anyhow::Result<String> {
    Ok(Settings::load(repo_root)?.workload_repo()?.to_string())
}

/// One image a scenario needs: a name unique within the scenario (it
/// becomes the tag, so each is a distinct reference the kubelet must pull)
/// and the content version (`v1`, `v2`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSlot {
    pub name: String,
    pub version: String,
}

/// Images ready for a scenario, by slot name.
pub struct Delivered {
    pub images: std::collections::BTreeMap<String, ImageRef>,
    description: String,
}

impl Delivered {
    /// One line about the delivery, for the record's notes.
    pub fn describe(&self) -> String {
        self.description.clone()
    }
}

/// Where the images go: the run's delivery, the user's registry (for
/// `External`) and the kind cluster whose node may be reached, if any.
#[derive(Debug, Clone, Copy)]
pub struct Route<'a> {
    /// Labels what is started for the run (its registry).
    pub run_id: &'a str,
    pub delivery: ImageDelivery,
    pub registry: Option<&'a str>,
    /// The name the nodes pull `registry`'s images by, when it is not the
    /// name this side pushes to (`--image-pull-registry`).
    pub pull_as: Option<&'a str>,
    /// The suite may reach the nodes (to point them at a registry of its
    /// own, or to load images into them).
    pub node_access: bool,
}

impl Route<'_> {
    /// Why this route cannot work, before anything is created.
    pub fn check(&self) -> anyhow::Result<()> {
        match (self.delivery, self.registry, self.node_access) {
            (ImageDelivery::Registry, _, false) => anyhow::bail!(
                "a cluster given only by its kubeconfig needs a way for its nodes to get the \
                 workload images; hint: --image-registry REF (a registry the nodes pull from) \
                 or --image-delivery preloaded"
            ),
            (ImageDelivery::External, None, _) => {
                anyhow::bail!("external delivery needs a registry; hint: --image-registry REF")
            }
            (ImageDelivery::External, Some(reference), _) => check_registry_ref(reference),
            _ => Ok(()),
        }
    }
}

/// `host[:port][/path]`, optionally with `http://` (push without TLS).
pub fn check_registry_ref(reference: &str) -> anyhow::Result<()> {
    let bare = reference.strip_prefix("http://").unwrap_or(reference);
    let host = bare.split('/').next().unwrap_or_default();
    let ok = !host.is_empty()
        && !bare.ends_with('/')
        && !bare.contains("://")
        && bare
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._:/".contains(c));
    anyhow::ensure!(
        ok,
        "--image-registry {reference:?} is not a registry reference; hint: HOST[:PORT][/PATH], \
         e.g. registry.example:5000/ci, or http://HOST:PORT for a plain-HTTP registry"
    );
    Ok(())
}

/// Makes every slot available to the cluster's kubelet.
pub async fn deliver(
    route: Route<'_>,
    env: &dyn Environment,
    repo_root: &Path,
    slug: &str,
    slots: &[ImageSlot],
) -> anyhow::Result<Delivered> {
    route.check()?;
    let repo = workload_repo(repo_root).await?;
    match route.delivery {
        ImageDelivery::Preloaded => {
            let loaded = env.preload_images().await?;
            let images = slots
                .iter()
                .map(|slot| {
                    let image = ImageRef {
                        reference: local_image(&repo, &slot.version),
                        content_version: slot.version.clone(),
                    };
                    (slot.name.clone(), image)
                })
                .collect();
            Ok(Delivered {
                images,
                description: if loaded {
                    "preloaded images (kind load), no registry".into()
                } else {
                    "preloaded images (put on the nodes by the user), no registry".into()
                },
            })
        }
        ImageDelivery::External => {
            let reference = route.registry.unwrap_or_default();
            let images = push_to(reference, route.pull_as, slug, slots).await?;
            Ok(Delivered {
                images,
                description: match route.pull_as {
                    Some(name) => format!(
                        "pushed to the registry {reference}, which the nodes pull from as {name}"
                    ),
                    None => format!("pushed to the registry {reference} (the nodes pull from it)"),
                },
            })
        }
        ImageDelivery::Registry => {
            anyhow::ensure!(
                env.info().local_registry,
                "{} environment {} cannot pull from a registry container of this machine; \
                 hint: --image-registry REF or --image-delivery preloaded",
                env.info().provider,
                env.info().name
            );
            let registry = shared_registry(repo_root, env, route.run_id).await?;
            let images = registry.publish(slug, slots).await?;
            Ok(Delivered {
                images,
                description: format!("{} (the run's registry)", registry.describe()),
            })
        }
    }
}

/// Pushes each slot's image to `REF/<slug>/workload:<slot>-<version>`:
/// slot-unique tags, so even v1 -> v2 -> v1 makes the kubelet pull. The
/// pods name it under `pull_as` when the nodes reach the registry by
/// another name (an in-cluster registry behind a NodePort).
async fn push_to(
    reference: &str,
    pull_as: Option<&str>,
    slug: &str,
    slots: &[ImageSlot],
) -> anyhow::Result<std::collections::BTreeMap<String, ImageRef>> {
    let (host_path, plain_http) = match reference.strip_prefix("http://") {
        Some(bare) => (bare, true),
        None => (reference, false),
    };
    let host = host_path.split('/').next().unwrap_or_default();
    let pusher = pusher_for(host, plain_http).await;
    let layout = oci::Layout::open(&oci::layout_dir())?;
    let pulled_from = pull_as.map(bare_registry).unwrap_or(host_path);
    let mut images = std::collections::BTreeMap::new();
    for slot in slots {
        let path = format!("{slug}/workload:{}-{}", slot.name, slot.version);
        let target = format!("{host_path}/{path}");
        pusher
            .push(&layout, &slot.version, &target)
            .await
            .with_context(|| format!("pushing workload {} to {target}", slot.version))?;
        let image = ImageRef {
            reference: format!("{pulled_from}/{path}"),
            content_version: slot.version.clone(),
        };
        images.insert(slot.name.clone(), image);
    }
    Ok(images)
}

/// Pushes the first content version once under `slug` for the run's
/// registry check, retrying while the registry does not answer yet (an
/// in-cluster registry started beside the run) up to `patience`; the
/// reference the nodes pull it by.
pub async fn push_probe(
    route: Route<'_>,
    repo_root: &Path,
    slug: &str,
    patience: Duration,
) -> anyhow::Result<ImageRef> {
    let reference = route
        .registry
        .context("the registry check needs --image-registry")?;
    let settings = Settings::load(repo_root)?;
    let slot = ImageSlot {
        name: "probe".into(),
        version: settings.workload_versions()?[0].to_string(),
    };
    let deadline = tokio::time::Instant::now() + patience;
    let mut waited = false;
    loop {
        match push_to(reference, route.pull_as, slug, std::slice::from_ref(&slot)).await {
            Ok(mut images) => return Ok(images.remove("probe").expect("pushed above")),
            Err(err) if tokio::time::Instant::now() >= deadline => {
                return Err(err.context(format!(
                    "the registry {reference} took no push from here within {} s",
                    patience.as_secs()
                )));
            }
            Err(err) => {
                if !waited {
                    crate::model::event::note(
                        "registry",
                        format!(
                            "{reference} takes no push yet ({err:#}); retrying for up to {} s",
                            patience.as_secs()
                        ),
                    );
                    waited = true;
                }
                tokio::time::sleep(Duration::from_secs(2)).await
            }
        }
    }
}

/// A registry reference without its `http://`.
fn bare_registry(reference: &str) -> &str {
    reference.strip_prefix("http://").unwrap_or(reference)
}

/// One pusher per registry and process: its tokens and the blobs it has
/// pushed (mounted, not uploaded, under the next scenario's repository).
async fn pusher_for(host: &str, plain_http: bool) -> Arc<oci::Pusher> {
    static PUSHERS: tokio::sync::Mutex<std::collections::BTreeMap<String, Arc<oci::Pusher>>> =
        tokio::sync::Mutex::const_new(std::collections::BTreeMap::new());
    PUSHERS
        .lock()
        .await
        .entry(format!("{plain_http}-{host}"))
        .or_insert_with(|| Arc::new(oci::Pusher::new(host, plain_http)))
        .clone()
}

struct LocalRegistry {
    container: ContainerAsync<GenericImage>,
    address: Address,
}

/// Where a registry container answers: pushes from this machine, pulls
/// from the nodes.
#[derive(Debug, Clone)]
struct Address {
    container_name: String,
    host_port: u16,
    kind_ip: String,
}

impl Address {
    fn describe(&self) -> String {
        format!(
            "registry container {} at {}:{} on network {KIND_NETWORK}, pushed via 127.0.0.1:{}",
            self.container_name, self.kind_ip, REGISTRY_PORT, self.host_port
        )
    }
}

impl LocalRegistry {
    async fn start(repo_root: &Path, slug: &str, run_id: &str) -> anyhow::Result<LocalRegistry> {
        ensure_docker_host(repo_root).await?;
        let image = registry_image(repo_root).await?;
        let (name, tag) = split_image(&image);
        let container_name = format!("{slug}-registry");
        let container = GenericImage::new(name, tag)
            .with_exposed_port(REGISTRY_PORT.tcp())
            .with_wait_for(WaitFor::message_on_either_std("listening on"))
            .with_network(KIND_NETWORK)
            .with_container_name(&container_name)
            // What `cleanup --run-id` finds after an interruption.
            .with_label(crate::environment::interrupt::RUN_LABEL, run_id)
            .with_startup_timeout(Duration::from_secs(60))
            .start()
            .await
            .with_context(|| {
                format!("starting registry {image} on podman network {KIND_NETWORK}")
            })?;
        // testcontainers can read neither the published port (podman reports
        // HostIp "", which it skips) nor, on podman 4.3, the network address
        // (get_bridge_ip_address): ask podman for both.
        let addresses = async {
            let port = published_port(repo_root, container.id(), REGISTRY_PORT).await?;
            let ip = container_ip(repo_root, container.id(), KIND_NETWORK).await?;
            Ok::<(u16, String), anyhow::Error>((port, ip))
        };
        let (host_port, kind_ip) = match addresses.await {
            Ok(addresses) => addresses,
            Err(err) => {
                let _ = container.rm().await;
                return Err(err);
            }
        };
        Ok(LocalRegistry {
            container,
            address: Address {
                container_name,
                host_port,
                kind_ip,
            },
        })
    }

    fn hosts_dir(&self) -> String {
        format!("/etc/containerd/certs.d/{}", self.address.pod_side_host())
    }

    async fn configure_node(&self, node: &dyn Node) -> anyhow::Result<()> {
        let content = hosts_toml(&self.address.kind_ip);
        let dir = self.hosts_dir();
        node.exec(&[
            "sh",
            "-c",
            "mkdir -p \"$1\" && printf '%s' \"$2\" > \"$1/hosts.toml\"",
            "sh",
            &dir,
            &content,
        ])
        .await
        .with_context(|| format!("writing {dir}/hosts.toml on node {}", node.name()))?;
        Ok(())
    }

    async fn remove(self, repo_root: &Path, nodes: &[Arc<dyn Node>]) -> anyhow::Result<()> {
        let dir = self.hosts_dir();
        let mut unconfigured = Ok(String::new());
        for node in nodes {
            let removed = node.exec(&["rm", "-rf", &dir]).await;
            if unconfigured.is_ok() {
                unconfigured = removed;
            }
        }
        let id = self.container.id().to_string();
        // Through podman's API first; if that service is gone (another run
        // on this machine stopped it), through the podman command.
        let removed = match self.container.rm().await {
            Ok(()) => Ok(()),
            Err(api) => podman(repo_root, &["rm", "-f", "-t", "2", &id])
                .await
                .map(drop)
                .with_context(|| format!("removing registry {id} (the API said: {api})")),
        };
        unconfigured.with_context(|| format!("removing {dir} on the node"))?;
        removed
    }
}

impl Address {
    /// The name pods use; containerd resolves it through hosts.toml.
    fn pod_side_host(&self) -> String {
        format!("localhost:{}", self.host_port)
    }

    /// Pushes each workload version once, before any scenario does: the
    /// first push uploads the layers, a later push under another
    /// repository only mounts them. Six scenarios starting at once used to
    /// upload the same layers six times.
    async fn warm(&self, repo_root: &Path) -> anyhow::Result<()> {
        let settings = Settings::load(repo_root)?;
        let layout = oci::Layout::open(&oci::layout_dir())?;
        let pusher = pusher_for(&self.push_host(), true).await;
        for version in settings.workload_versions()? {
            let target = format!("{}/ipc-warm/workload:{version}", self.push_host());
            pusher
                .push(&layout, version, &target)
                .await
                .with_context(|| format!("pushing workload {version} to {target}"))?;
        }
        Ok(())
    }

    /// This machine's way to the registry container (its published port).
    fn push_host(&self) -> String {
        format!("127.0.0.1:{}", self.host_port)
    }

    /// Pushes the slots under the scenario's repository and names them as
    /// the pods do (`localhost:<port>`, which hosts.toml sends to the
    /// container).
    async fn publish(
        &self,
        slug: &str,
        slots: &[ImageSlot],
    ) -> anyhow::Result<std::collections::BTreeMap<String, ImageRef>> {
        let pull_as = self.pod_side_host();
        push_to(
            &format!("http://{}", self.push_host()),
            Some(&pull_as),
            slug,
            slots,
        )
        .await
    }
}

/// The run's registry and the nodes told to pull from it.
struct Shared {
    registry: LocalRegistry,
    nodes: Vec<Arc<dyn Node>>,
}

/// One registry per run (per process): started by the first scenario that
/// needs it, removed by [`release_run_registry`] at the run's end, found by
/// the run label after an interruption. Each scenario still pushes under
/// its own repository (`<namespace>/workload:<slot>-<version>`), so every
/// reference is new to the node and every update pulls.
static SHARED: tokio::sync::Mutex<Option<Shared>> = tokio::sync::Mutex::const_new(None);

async fn shared_registry(
    repo_root: &Path,
    env: &dyn Environment,
    run_id: &str,
) -> anyhow::Result<Address> {
    let mut slot = SHARED.lock().await;
    if slot.is_none() {
        let name = format!("ipc-run-{}", crate::short_id());
        let registry = LocalRegistry::start(repo_root, &name, run_id).await?;
        let nodes = env.nodes().to_vec();
        for node in &nodes {
            if let Err(err) = registry.configure_node(node.as_ref()).await {
                let _ = registry.remove(repo_root, &nodes).await;
                return Err(err);
            }
        }
        if let Err(err) = registry.address.warm(repo_root).await {
            let _ = registry.remove(repo_root, &nodes).await;
            return Err(err);
        }
        *slot = Some(Shared { registry, nodes });
    }
    Ok(slot.as_ref().expect("set above").registry.address.clone())
}

/// Removes the run's registry and its node configuration, if one was
/// started (the end of `batch::run_scenarios` and of the test harness).
pub async fn release_run_registry(repo_root: &Path) -> anyhow::Result<()> {
    match SHARED.lock().await.take() {
        Some(shared) => shared.registry.remove(repo_root, &shared.nodes).await,
        None => Ok(()),
    }
}

/// `INPLACE_REGISTRY_IMAGE`, else the project's pinned `IPC_REGISTRY_IMAGE`.
async fn registry_image(repo_root: &Path) -> anyhow::Result<String> {
    match std::env::var("INPLACE_REGISTRY_IMAGE") {
        Ok(image) if !image.is_empty() => Ok(image),
        _ => Settings::load(repo_root)?.registry_image(),
    }
}

/// containerd host config: pull from the registry container over plain
/// HTTP on the kind network.
pub fn hosts_toml(registry_ip: &str) -> String {
    format!(
        "# written by inplace-conformance for one scenario, removed afterwards\n\
         [host.\"http://{registry_ip}:{REGISTRY_PORT}\"]\n  \
         capabilities = [\"pull\", \"resolve\"]\n"
    )
}

/// `name:tag` -> (`name`, `tag`); the tag is the part after the last colon
/// that is not followed by a slash (a registry port is not a tag).
pub fn split_image(image: &str) -> (String, String) {
    match image.rfind(':') {
        Some(i) if !image[i + 1..].contains('/') => (image[..i].into(), image[i + 1..].into()),
        _ => (image.into(), "latest".into()),
    }
}

/// `DOCKER_HOST` for testcontainers: `scripts/cluster registry-socket`
/// starts the podman API service (idempotent) and prints its address.
async fn ensure_docker_host(repo_root: &Path) -> anyhow::Result<()> {
    static READY: OnceCell<String> = OnceCell::const_new();
    READY
        .get_or_try_init(|| async {
            let printed =
                crate::environment::cluster::run_script(repo_root, &["registry-socket"]).await?;
            let host = parse_docker_host(&printed).with_context(|| {
                format!("`scripts/cluster registry-socket` printed no address: {printed:?}")
            })?;
            if std::env::var_os("DOCKER_HOST").is_none() {
                // SAFETY: set once per process (OnceCell), before the first
                // testcontainers call reads it. Other threads may be running
                // tests; none of our code reads DOCKER_HOST concurrently, and
                // a driver that exports DOCKER_HOST avoids this path entirely.
                unsafe { std::env::set_var("DOCKER_HOST", &host) };
            }
            Ok::<String, anyhow::Error>(host)
        })
        .await?;
    Ok(())
}

/// Last non-empty line, with or without a `DOCKER_HOST=` prefix.
pub fn parse_docker_host(stdout: &str) -> Option<String> {
    let last = stdout.lines().rev().find(|l| !l.trim().is_empty())?.trim();
    let value = last.strip_prefix("DOCKER_HOST=").unwrap_or(last);
    let value = value.trim_matches('"').trim_matches('\'');
    value.contains("://").then(|| value.to_string())
}

/// podman with the project's settings (its `containers.conf`, as the
/// scripts use it).
pub async fn podman(repo_root: &Path, args: &[&str]) -> anyhow::Result<String> {
    let mut command = tokio::process::Command::new("podman");
    if let Some(conf) = settings::containers_conf() {
        command.env("CONTAINERS_CONF", conf);
    }
    let output = command
        .args(args)
        .current_dir(repo_root)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .context("running podman")?;
    anyhow::ensure!(
        output.status.success(),
        "podman {} failed ({}): {}",
        args.first().unwrap_or(&""),
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

async fn container_ip(repo_root: &Path, id: &str, network: &str) -> anyhow::Result<String> {
    let json = podman(
        repo_root,
        &[
            "inspect",
            "--format",
            "{{json .NetworkSettings.Networks}}",
            id,
        ],
    )
    .await?;
    network_ip(&json, network)
        .with_context(|| format!("container {id} has no address on network {network}: {json}"))
}

async fn published_port(repo_root: &Path, id: &str, port: u16) -> anyhow::Result<u16> {
    let printed = podman(repo_root, &["port", id, &format!("{port}/tcp")]).await?;
    parse_published_port(&printed)
        .with_context(|| format!("container {id} publishes no port for {port}/tcp: {printed:?}"))
}

/// `podman port` prints `0.0.0.0:33763` (one line per binding).
pub fn parse_published_port(printed: &str) -> Option<u16> {
    printed
        .lines()
        .filter_map(|l| l.trim().rsplit_once(':'))
        .find_map(|(_, port)| port.parse().ok())
}

/// Picks `<network>.IPAddress` out of `podman inspect`'s Networks JSON.
pub fn network_ip(networks_json: &str, network: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(networks_json.trim()).ok()?;
    let ip = value.get(network)?.get("IPAddress")?.as_str()?;
    (!ip.is_empty()).then(|| ip.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names_split_at_the_tag_not_the_port() {
        assert_eq!(
            split_image("localhost/inplace-conformance/registry:v3.1.2"),
            (
                "localhost/inplace-conformance/registry".into(),
                "v3.1.2".into()
            )
        );
        assert_eq!(
            split_image("localhost:5001/a/b"),
            ("localhost:5001/a/b".into(), "latest".into())
        );
    }

    #[test]
    fn docker_host_line_with_or_without_prefix() {
        let sock = "unix:///run/podman/podman.sock";
        assert_eq!(
            parse_docker_host(&format!("starting\n{sock}\n")).as_deref(),
            Some(sock)
        );
        assert_eq!(
            parse_docker_host(&format!("DOCKER_HOST={sock}")).as_deref(),
            Some(sock)
        );
        assert_eq!(parse_docker_host("ready\n"), None);
    }

    #[test]
    fn network_ip_from_podman_inspect() {
        let json = r#"{"kind":{"IPAddress":"10.89.0.7","Gateway":"10.89.0.1"},"podman":{"IPAddress":"10.88.0.3"}}"#;
        assert_eq!(network_ip(json, "kind").as_deref(), Some("10.89.0.7"));
        assert_eq!(network_ip(json, "other"), None);
        assert_eq!(network_ip(r#"{"kind":{"IPAddress":""}}"#, "kind"), None);
    }

    #[test]
    fn published_port_from_podman_port() {
        assert_eq!(parse_published_port("0.0.0.0:33763\n"), Some(33763));
        assert_eq!(
            parse_published_port("[::]:40001\n0.0.0.0:40001\n"),
            Some(40001)
        );
        assert_eq!(parse_published_port(""), None);
    }

    #[test]
    fn routes_without_a_way_to_the_nodes_are_refused() {
        let foreign = |delivery, registry| Route {
            run_id: "r",
            delivery,
            registry,
            pull_as: None,
            node_access: false,
        };
        let err = foreign(ImageDelivery::Registry, None).check().unwrap_err();
        assert!(err.to_string().contains("--image-registry REF"), "{err}");
        assert!(foreign(ImageDelivery::Preloaded, None).check().is_ok());
        assert!(
            foreign(ImageDelivery::External, Some("10.89.0.9:5000/ci"))
                .check()
                .is_ok()
        );
        assert!(foreign(ImageDelivery::External, None).check().is_err());
        let kind = Route {
            run_id: "r",
            delivery: ImageDelivery::Registry,
            registry: None,
            pull_as: None,
            node_access: true,
        };
        assert!(kind.check().is_ok());
    }

    #[test]
    fn registry_references_are_checked() {
        for good in [
            "registry.example:5000/ci",
            "http://10.89.0.9:5000",
            "ghcr.io/org/x",
        ] {
            assert!(check_registry_ref(good).is_ok(), "{good}");
        }
        for bad in ["", "https://r.example/x", "r.example/", "r example", "/ci"] {
            assert!(check_registry_ref(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hosts_toml_points_at_the_registry_over_http() {
        let toml = hosts_toml("10.89.0.7");
        assert!(toml.contains("[host.\"http://10.89.0.7:5000\"]"));
        assert!(toml.contains("capabilities = [\"pull\", \"resolve\"]"));
    }
}
