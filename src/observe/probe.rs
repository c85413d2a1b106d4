//! Looking inside every container of a pod through the API's exec (kube
//! `ws`): write and read marker tokens, prove which filesystem each sits
//! on, read namespace, cgroup and env identities, measure emptyDir write
//! throughput; plus the pod's API view. Parsing is pure and unit-tested;
//! the exec calls are thin.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context;
use k8s_openapi::api::core::v1::{ContainerStatus, PersistentVolumeClaim, Pod};
use kube::api::{Api, AttachParams};
use strum::IntoEnumIterator;
use tokio::io::AsyncReadExt;

use crate::model::record::{
    ClaimRecord, ConditionRecord, ContainerRecord, ContainerSnapshot, InsideView, MarkerLocation,
    MarkerRead, MarkerWrite, MountFacts, PodSnapshot, TerminatedRecord, Throughput,
};

pub const IMAGE_VERSION_FILE: &str = "/etc/inplace-conformance/image-version";
/// Env vars the probe reads back: fixtures name theirs with this prefix.
pub const ENV_PREFIX: &str = "IPC_";
/// A fixture's preStop hook appends one line here per run (the disk
/// emptyDir, so that the lines outlive the container that wrote them).
pub const PRESTOP_LOG: &str = "/data/disk/prestop.log";
/// kruise's container priority variable (apis/apps/pub/launch_priority.go).
pub const PRIORITY_ENV: &str = "KRUISE_CONTAINER_PRIORITY";

/// Exec into the containers of the pods of one namespace, with a deadline
/// per call.
#[derive(Clone)]
pub struct Probe {
    pods: Api<Pod>,
    claims: Api<PersistentVolumeClaim>,
    timeout: Duration,
}

#[derive(Debug)]
pub struct ExecOutput {
    pub stdout: String,
    pub stderr: String,
    pub success: bool,
}

impl Probe {
    pub fn new(client: &kube::Client, namespace: &str, timeout: Duration) -> Probe {
        Probe {
            pods: Api::namespaced(client.clone(), namespace),
            claims: Api::namespaced(client.clone(), namespace),
            timeout,
        }
    }

    /// Runs `argv` in one container and returns its output; a non-zero exit
    /// is an error.
    pub async fn run(&self, pod: &str, container: &str, argv: &[&str]) -> anyhow::Result<String> {
        let output = tokio::time::timeout(self.timeout, self.exec(pod, container, argv))
            .await
            .map_err(|_| {
                anyhow::anyhow!(
                    "exec {argv:?} in {pod}/{container} gave no answer in {:?}",
                    self.timeout
                )
            })??;
        anyhow::ensure!(
            output.success,
            "exec {argv:?} in {pod}/{container} failed: {}",
            output.stderr.trim()
        );
        Ok(output.stdout)
    }

    async fn exec(&self, pod: &str, container: &str, argv: &[&str]) -> anyhow::Result<ExecOutput> {
        let params = AttachParams::default()
            .container(container)
            .stdout(true)
            .stderr(true);
        let mut process = self
            .pods
            .exec(pod, argv.iter().copied(), &params)
            .await
            .with_context(|| format!("exec {argv:?} in {pod}/{container}"))?;
        let mut stdout = process.stdout().context("exec without stdout")?;
        let mut stderr = process.stderr().context("exec without stderr")?;
        let status = process.take_status().context("exec without status")?;
        // Drain both pipes before join(): they are small buffers and a full
        // one blocks the remote side.
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let (read_out, read_err) =
            tokio::join!(stdout.read_to_end(&mut out), stderr.read_to_end(&mut err));
        read_out.context("reading exec stdout")?;
        read_err.context("reading exec stderr")?;
        let status = status.await;
        process.join().await.context("joining exec")?;
        let success = status
            .as_ref()
            .and_then(|s| s.status.as_deref())
            .is_some_and(|s| s == "Success");
        Ok(ExecOutput {
            stdout: String::from_utf8_lossy(&out).into_owned(),
            stderr: String::from_utf8_lossy(&err).into_owned(),
            success,
        })
    }

    pub async fn mounts(&self, pod: &str, container: &str) -> anyhow::Result<Vec<MountEntry>> {
        let text = self
            .run(pod, container, &["cat", "/proc/self/mountinfo"])
            .await?;
        Ok(parse_mountinfo(&text))
    }

    /// The container names of a pod, in spec order.
    pub async fn containers(&self, pod: &str) -> anyhow::Result<Vec<String>> {
        let pod = self.pods.get(pod).await?;
        Ok(pod
            .spec
            .iter()
            .flat_map(|s| s.containers.iter().map(|c| c.name.clone()))
            .collect())
    }

    /// The container that mounts the marker volumes: the first whose spec
    /// mounts the disk emptyDir (an injected sidecar may come first and
    /// mount nothing), else the first.
    pub async fn volume_container(&self, pod: &str) -> anyhow::Result<String> {
        let pod = self.pods.get(pod).await?;
        let containers = pod.spec.map(|s| s.containers).unwrap_or_default();
        let wanted = MarkerLocation::DiskEmptyDir.expected_mount_point();
        let mounts = |c: &&k8s_openapi::api::core::v1::Container| {
            c.volume_mounts
                .iter()
                .flatten()
                .any(|m| m.mount_path == wanted)
        };
        containers
            .iter()
            .find(mounts)
            .or(containers.first())
            .map(|c| c.name.clone())
            .context("pod without containers")
    }

    /// Writes a fresh token to every marker location: a rootfs marker in
    /// every container, the volume markers once through the container that
    /// mounts them (the pod's volumes are shared); records which mount each
    /// landed on.
    pub async fn write_markers(&self, pod: &str) -> anyhow::Result<Vec<MarkerWrite>> {
        let containers = self.containers(pod).await?;
        let volumes = self.volume_container(pod).await?;
        let mut written = Vec::new();
        for container in &containers {
            let wanted: Vec<(MarkerLocation, String)> = MarkerLocation::iter()
                .filter(|l| *container == volumes || l.per_container())
                .map(|l| (l, uuid::Uuid::new_v4().to_string()))
                .collect();
            // One exec per container (mount table first, then every
            // write, each synced): an exec costs a runc process, and a
            // run makes hundreds of them on two cores.
            let script = format!(
                "cat /proc/self/mountinfo; echo {SEP}; \
                 while [ $# -gt 0 ]; do printf '%s' \"$1\" > \"$2\" && sync \"$2\" || exit 1; \
                 shift 2; done"
            );
            let mut argv = vec!["sh", "-c", script.as_str(), "sh"];
            for (location, token) in &wanted {
                argv.extend([token.as_str(), location.path()]);
            }
            let output = self.run(pod, container, &argv).await?;
            let mounts = parse_mountinfo(section(&output, 0, 2)?);
            for (location, token) in wanted {
                let path = location.path();
                written.push(MarkerWrite {
                    location,
                    container: container.clone(),
                    path: path.to_string(),
                    token,
                    mount: mount_facts(&mounts, path)?,
                });
            }
        }
        Ok(written)
    }

    /// Reads back the marker files written earlier (possibly in another
    /// container instance or another pod), each where it was written.
    pub async fn read_markers(
        &self,
        pod: &str,
        written: &[MarkerWrite],
    ) -> anyhow::Result<Vec<MarkerRead>> {
        let mut by_container: BTreeMap<&str, Vec<&MarkerWrite>> = BTreeMap::new();
        for marker in written {
            by_container
                .entry(marker.container.as_str())
                .or_default()
                .push(marker);
        }
        let mut read = Vec::new();
        for (container, markers) in by_container {
            // One exec per container, as for the writes.
            let script = format!(
                "cat /proc/self/mountinfo; for p in \"$@\"; do echo {SEP}; \
                 if [ -e \"$p\" ]; then printf 'present:'; cat \"$p\"; else printf 'absent'; fi; \
                 echo; done"
            );
            let mut argv = vec!["sh", "-c", script.as_str(), "sh"];
            argv.extend(markers.iter().map(|m| m.path.as_str()));
            let output = self.run(pod, container, &argv).await?;
            let mounts = parse_mountinfo(section(&output, 0, markers.len() + 1)?);
            for (index, marker) in markers.into_iter().enumerate() {
                let text = section(&output, index + 1, 0)?;
                read.push(MarkerRead {
                    location: marker.location,
                    container: marker.container.clone(),
                    path: marker.path.clone(),
                    found: parse_marker_read(text.strip_suffix('\n').unwrap_or(text)),
                    mount: mount_facts(&mounts, &marker.path).ok(),
                });
            }
        }
        // In the order written, as the judges expect them.
        read.sort_by_key(|r| {
            written
                .iter()
                .position(|w| w.container == r.container && w.path == r.path)
        });
        Ok(read)
    }

    pub async fn inside_view(&self, pod: &str, container: &str) -> anyhow::Result<InsideView> {
        let script = format!(
            "readlink /proc/self/ns/net; echo {SEP}; cat /proc/self/cgroup; echo {SEP}; \
             readlink /proc/self/ns/cgroup; echo {SEP}; stat -c %i /sys/fs/cgroup; echo {SEP}; \
             cat {IMAGE_VERSION_FILE}; echo {SEP}; env | grep '^{ENV_PREFIX}' || true; echo {SEP}; \
             cat /sys/fs/cgroup/cpu.max 2>/dev/null || \
             echo $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us 2>/dev/null); \
             echo {SEP}; cat {PRESTOP_LOG} 2>/dev/null || true; echo {SEP}; \
             cat /sys/fs/cgroup/memory.max 2>/dev/null || \
             cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || true"
        );
        let output = self.run(pod, container, &["sh", "-c", &script]).await?;
        parse_inside_view(&output)
    }

    /// Pod status + what each container sees, at one moment.
    pub async fn snapshot(&self, pod_name: &str) -> anyhow::Result<PodSnapshot> {
        let mut inside = BTreeMap::new();
        for container in self.containers(pod_name).await? {
            let view = self.inside_view(pod_name, &container).await?;
            inside.insert(container, view);
        }
        let pod = self.pods.get(pod_name).await?;
        let mut snapshot = pod_snapshot(&pod, inside)?;
        for claim in &mut snapshot.claims {
            claim.uid = self
                .claims
                .get_opt(&claim.claim)
                .await?
                .and_then(|c| c.metadata.uid);
        }
        Ok(snapshot)
    }

    /// C12: write throughput of the memory vs the disk emptyDir, in the
    /// same pod, alternating media so both see the same background load.
    pub async fn measure_throughput(
        &self,
        pod: &str,
        plan: &ThroughputPlan,
    ) -> anyhow::Result<Throughput> {
        let container = self.volume_container(pod).await?;
        let container = container.as_str();
        let mounts = self.mounts(pod, container).await?;
        let (mem_dir, disk_dir) = ("/data/mem", "/data/disk");
        let (mut mem_runs, mut disk_runs) = (Vec::new(), Vec::new());
        let (mut mem_synced, mut disk_synced) = (Vec::new(), Vec::new());
        for _ in 0..plan.repetitions {
            let at = (pod, container);
            mem_runs.push(self.large_file_mb_per_s(at, mem_dir, plan).await?);
            disk_runs.push(self.large_file_mb_per_s(at, disk_dir, plan).await?);
            mem_synced.push(self.synced_writes_per_s(at, mem_dir, plan).await?);
            disk_synced.push(self.synced_writes_per_s(at, disk_dir, plan).await?);
        }
        Ok(Throughput {
            pod: pod.to_string(),
            file_bytes: plan.file_mib * 1024 * 1024,
            repetitions: plan.repetitions,
            memory_runs_mb_per_s: mem_runs,
            disk_runs_mb_per_s: disk_runs,
            synced_writes: plan.synced_writes,
            synced_write_bytes: plan.synced_write_bytes,
            memory_synced_writes_per_s: mem_synced,
            disk_synced_writes_per_s: disk_synced,
            memory_mount: mount_facts(&mounts, mem_dir)?,
            disk_mount: mount_facts(&mounts, disk_dir)?,
        })
    }

    async fn large_file_mb_per_s(
        &self,
        (pod, container): (&str, &str),
        dir: &str,
        plan: &ThroughputPlan,
    ) -> anyhow::Result<f64> {
        let count = plan.file_mib.to_string();
        let output = self
            .run(
                pod,
                container,
                &[
                    "sh",
                    "-c",
                    "dd if=/dev/zero of=\"$1/throughput.bin\" bs=1M count=\"$2\" conv=fsync 2>&1; \
                     rc=$?; rm -f \"$1/throughput.bin\"; exit $rc",
                    "sh",
                    dir,
                    &count,
                ],
            )
            .await?;
        let (bytes, seconds) = parse_dd_summary(&output)
            .with_context(|| format!("unexpected dd output: {output:?}"))?;
        Ok(mb_per_s(bytes, seconds))
    }

    /// `synced_writes` writes of `synced_write_bytes`, each with O_DSYNC,
    /// by one dd: writes per second.
    async fn synced_writes_per_s(
        &self,
        (pod, container): (&str, &str),
        dir: &str,
        plan: &ThroughputPlan,
    ) -> anyhow::Result<f64> {
        let (count, size) = (
            plan.synced_writes.to_string(),
            plan.synced_write_bytes.to_string(),
        );
        let output = self
            .run(
                pod,
                container,
                &[
                    "sh",
                    "-c",
                    "dd if=/dev/zero of=\"$1/synced.bin\" bs=\"$3\" count=\"$2\" oflag=dsync 2>&1; \
                     rc=$?; rm -f \"$1/synced.bin\"; exit $rc",
                    "sh",
                    dir,
                    &count,
                    &size,
                ],
            )
            .await?;
        let (_, seconds) = parse_dd_summary(&output)
            .with_context(|| format!("unexpected dd output: {output:?}"))?;
        anyhow::ensure!(seconds > 0.0, "non-positive duration {seconds}s");
        Ok(f64::from(plan.synced_writes) / seconds)
    }
}

/// Sizes of the throughput measurement.
#[derive(Debug, Clone)]
pub struct ThroughputPlan {
    pub file_mib: u64,
    pub repetitions: u32,
    pub synced_writes: u32,
    pub synced_write_bytes: u32,
}

impl Default for ThroughputPlan {
    fn default() -> Self {
        // Small enough for the fixture's 128Mi memory emptyDir and a few
        // seconds per run on a 2-core machine.
        ThroughputPlan {
            file_mib: 32,
            repetitions: 3,
            synced_writes: 400,
            synced_write_bytes: 4096,
        }
    }
}

const SEP: &str = "--inplace-conformance--";

/// One line of /proc/self/mountinfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    pub mount_point: String,
    pub fstype: String,
    pub source: String,
}

/// Fields: id parent major:minor root mount-point options [optional...] -
/// fstype source super-options. Octal escapes (`\040`) are decoded.
pub fn parse_mountinfo(text: &str) -> Vec<MountEntry> {
    text.lines()
        .filter_map(|line| {
            let (before, after) = line.split_once(" - ")?;
            let mount_point = before.split(' ').nth(4)?;
            let mut tail = after.split(' ');
            let fstype = tail.next()?;
            let source = tail.next().unwrap_or("");
            Some(MountEntry {
                mount_point: unescape_octal(mount_point),
                fstype: fstype.to_string(),
                source: unescape_octal(source),
            })
        })
        .collect()
}

fn unescape_octal(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match octal {
            Some(digits) => {
                let value = digits.iter().fold(0u32, |v, d| v * 8 + u32::from(d - b'0'));
                out.push(value as u8);
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The mount a path lives on: the longest mount point that is a
/// path-component prefix of it; among equal ones the last (it is on top).
pub fn mount_for<'a>(entries: &'a [MountEntry], path: &str) -> Option<&'a MountEntry> {
    entries
        .iter()
        .enumerate()
        .filter(|(_, e)| is_path_prefix(&e.mount_point, path))
        .max_by_key(|(i, e)| (e.mount_point.len(), *i))
        .map(|(_, e)| e)
}

fn is_path_prefix(mount_point: &str, path: &str) -> bool {
    mount_point == "/"
        || path == mount_point
        || path
            .strip_prefix(mount_point)
            .is_some_and(|rest| rest.starts_with('/'))
}

fn mount_facts(entries: &[MountEntry], path: &str) -> anyhow::Result<MountFacts> {
    let entry = mount_for(entries, path)
        .with_context(|| format!("no mount in /proc/self/mountinfo covers {path}"))?;
    Ok(MountFacts {
        mount_point: entry.mount_point.clone(),
        fstype: entry.fstype.clone(),
        source: entry.source.clone(),
    })
}

/// Section `index` of an exec's output cut at the separator lines;
/// `expected` (when not 0) is how many sections a whole output has.
pub fn section(output: &str, index: usize, expected: usize) -> anyhow::Result<&str> {
    let parts: Vec<&str> = output.split(&format!("{SEP}\n")).collect();
    anyhow::ensure!(
        expected == 0 || parts.len() == expected,
        "expected {expected} sections, got {}: {output:?}",
        parts.len()
    );
    parts
        .get(index)
        .copied()
        .with_context(|| format!("no section {index} in {output:?}"))
}

pub fn parse_marker_read(output: &str) -> Option<String> {
    output.strip_prefix("present:").map(str::to_string)
}

pub fn parse_inside_view(output: &str) -> anyhow::Result<InsideView> {
    let parts: Vec<&str> = output.split(&format!("{SEP}\n")).collect();
    anyhow::ensure!(
        parts.len() == 9,
        "inside view: expected 9 sections, got {}: {output:?}",
        parts.len()
    );
    let env = parts[5]
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Ok(InsideView {
        netns: parts[0].trim().to_string(),
        cgroup: parts[1].to_string(),
        cgroup_ns: parts[2].trim().to_string(),
        cgroup_inode: parts[3].trim().to_string(),
        image_version: parts[4].to_string(),
        env,
        cpu_quota: parts[6].trim().to_string(),
        prestop_log: parts[7].lines().map(str::to_string).collect(),
        memory_limit: parts[8].trim().to_string(),
    })
}

/// dd's summary: `33554432 bytes (34 MB, 32 MiB) copied, 0.0234 s, 1.4 GB/s`
/// -> (bytes, seconds). The rate dd prints is rounded; we recompute it.
pub fn parse_dd_summary(output: &str) -> Option<(u64, f64)> {
    let line = output.lines().find(|l| l.contains(" copied, "))?;
    let bytes: u64 = line.split_whitespace().next()?.parse().ok()?;
    let after = line.split(" copied, ").nth(1)?;
    let seconds: f64 = after
        .split_whitespace()
        .next()?
        .replace(',', ".")
        .parse()
        .ok()?;
    Some((bytes, seconds))
}

pub fn mb_per_s(bytes: u64, seconds: f64) -> f64 {
    if seconds <= 0.0 {
        return f64::INFINITY;
    }
    bytes as f64 / seconds / 1e6
}

/// The API's view of the pod, reduced to what the record keeps, with each
/// container's inside view (by name).
pub fn pod_snapshot(
    pod: &Pod,
    mut inside: BTreeMap<String, InsideView>,
) -> anyhow::Result<PodSnapshot> {
    let meta = &pod.metadata;
    let status = pod.status.clone().unwrap_or_default();
    let spec = pod.spec.clone().unwrap_or_default();
    let statuses = status.container_statuses.as_deref().unwrap_or_default();
    let mut containers = Vec::new();
    for container in &spec.containers {
        let status = statuses
            .iter()
            .find(|c| c.name == container.name)
            .with_context(|| format!("pod has no status for container {}", container.name))?;
        let view = inside
            .remove(&container.name)
            .with_context(|| format!("no inside view of container {}", container.name))?;
        let priority = container
            .env
            .iter()
            .flatten()
            .find(|e| e.name == PRIORITY_ENV)
            .and_then(|e| e.value.as_deref()?.parse().ok());
        containers.push(ContainerSnapshot {
            status: container_record(status),
            inside: view,
            priority,
        });
    }
    let pod_ips = match &status.pod_ips {
        Some(ips) if !ips.is_empty() => ips.iter().map(|ip| ip.ip.clone()).collect(),
        _ => status.pod_ip.iter().cloned().collect(),
    };
    let claims = spec
        .volumes
        .iter()
        .flatten()
        .filter_map(|v| {
            // A generic ephemeral volume's claim is named <pod>-<volume>.
            let claim = match (&v.persistent_volume_claim, &v.ephemeral) {
                (Some(c), _) => c.claim_name.clone(),
                (None, Some(_)) => format!("{}-{}", meta.name.as_deref()?, v.name),
                (None, None) => return None,
            };
            Some(ClaimRecord {
                volume: v.name.clone(),
                claim,
                uid: None,
            })
        })
        .collect();
    let labels = meta.labels.clone().unwrap_or_default();
    let annotations = meta.annotations.clone().unwrap_or_default();
    Ok(PodSnapshot {
        taken_at: crate::now_rfc3339(),
        name: meta.name.clone().unwrap_or_default(),
        uid: meta.uid.clone().unwrap_or_default(),
        node: spec.node_name.clone(),
        pod_ips,
        phase: status.phase.clone(),
        creation_timestamp: meta.creation_timestamp.as_ref().map(|t| t.0.to_string()),
        revision_label: labels
            .get(crate::observe::kruise::REVISION_LABEL)
            .or_else(|| labels.get("pod-template-hash"))
            .cloned(),
        inplace_update_state: annotations
            .get(crate::observe::kruise::INPLACE_UPDATE_STATE)
            .map(|raw| serde_json::from_str(raw).unwrap_or(serde_json::Value::String(raw.clone()))),
        labels: labels.into_iter().collect(),
        annotations: annotations
            .into_iter()
            .filter(|(k, _)| !k.ends_with("last-applied-configuration"))
            .collect(),
        conditions: status
            .conditions
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(|c| ConditionRecord {
                type_: c.type_.clone(),
                status: c.status.clone(),
                reason: c.reason.clone(),
                last_transition: c.last_transition_time.as_ref().map(|t| t.0.to_string()),
            })
            .collect(),
        containers,
        claims,
    })
}

fn container_record(status: &ContainerStatus) -> ContainerRecord {
    let started_at = status
        .state
        .as_ref()
        .and_then(|s| s.running.as_ref())
        .and_then(|r| r.started_at.as_ref())
        .map(|t| t.0.to_string());
    let last_terminated = status
        .last_state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .map(|t| TerminatedRecord {
            exit_code: t.exit_code,
            reason: t.reason.clone(),
            container_id: t.container_id.clone(),
            started_at: t.started_at.as_ref().map(|x| x.0.to_string()),
            finished_at: t.finished_at.as_ref().map(|x| x.0.to_string()),
        });
    ContainerRecord {
        name: status.name.clone(),
        container_id: status.container_id.clone(),
        image: status.image.clone(),
        image_id: status.image_id.clone(),
        restart_count: status.restart_count,
        ready: status.ready,
        started_at,
        last_terminated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
1369 1181 0:150 / / rw,relatime master:460 - overlay overlay rw,lowerdir=/var/lib/containerd/l1,upperdir=/u,workdir=/w
1370 1369 0:153 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
1375 1369 0:51 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw
1380 1369 254:1 /var/lib/kubelet/pods/u/volumes/kubernetes.io~empty-dir/disk /data/disk rw,relatime - ext4 /dev/vda1 rw
1381 1369 0:148 / /data/mem rw,relatime - tmpfs tmpfs rw,size=131072k
1382 1369 254:1 /var/local-path-provisioner/pvc-1 /data/pvc rw,relatime - ext4 /dev/vda1 rw
1383 1369 254:1 /x /data/disk\\040copy rw - ext4 /dev/vda1 rw
";

    #[test]
    fn mountinfo_resolves_each_marker_to_its_mount() {
        let mounts = parse_mountinfo(MOUNTINFO);
        let at = |p: &str| mount_for(&mounts, p).unwrap();
        assert_eq!(at("/var/tmp/inplace-marker").mount_point, "/");
        assert_eq!(at("/var/tmp/inplace-marker").fstype, "overlay");
        assert_eq!(at("/data/mem/inplace-marker").fstype, "tmpfs");
        assert_eq!(at("/data/disk/inplace-marker").mount_point, "/data/disk");
        assert_eq!(at("/data/disk/inplace-marker").fstype, "ext4");
        assert_eq!(at("/data/pvc/inplace-marker").mount_point, "/data/pvc");
        // "/data/disk" must not claim "/data/diskette" (component prefix).
        assert_eq!(at("/data/diskette").mount_point, "/");
        assert_eq!(at("/data/disk copy/f").mount_point, "/data/disk copy");
    }

    /// What the one-exec read prints: the mount table, then one section
    /// per marker, present or absent.
    #[test]
    fn one_exec_read_back_cuts_into_the_mount_table_and_each_marker() {
        let output = format!("{MOUNTINFO}{SEP}\npresent:f20e07f4\n{SEP}\nabsent\n");
        let mounts = parse_mountinfo(section(&output, 0, 3).unwrap());
        assert_eq!(mount_for(&mounts, "/data/mem/x").unwrap().fstype, "tmpfs");
        let marker = |i| {
            let text = section(&output, i, 0).unwrap();
            parse_marker_read(text.strip_suffix('\n').unwrap_or(text))
        };
        assert_eq!(marker(1), Some("f20e07f4".to_string()));
        assert_eq!(marker(2), None);
        // A cut-short output is an error, not a marker read as absent.
        assert!(section(&output, 0, 4).is_err());
    }

    #[test]
    fn later_mount_on_the_same_point_wins() {
        let text = format!("{MOUNTINFO}1400 1381 0:160 / /data/mem rw - ext4 /dev/vdb rw\n");
        let mounts = parse_mountinfo(&text);
        assert_eq!(mount_for(&mounts, "/data/mem/x").unwrap().fstype, "ext4");
    }

    #[test]
    fn optional_mountinfo_fields_are_skipped() {
        let line = "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue";
        let mounts = parse_mountinfo(line);
        assert_eq!(
            mounts,
            vec![MountEntry {
                mount_point: "/mnt2".into(),
                fstype: "ext3".into(),
                source: "/dev/root".into()
            }]
        );
    }

    #[test]
    fn dd_summary_variants() {
        let gnu = "32+0 records in\n32+0 records out\n33554432 bytes (34 MB, 32 MiB) copied, 0.0234 s, 1.4 GB/s\n";
        assert_eq!(parse_dd_summary(gnu), Some((33554432, 0.0234)));
        let slow = "33554432 bytes (34 MB, 32 MiB) copied, 1,5 s, 22.4 MB/s";
        assert_eq!(parse_dd_summary(slow), Some((33554432, 1.5)));
        assert_eq!(parse_dd_summary("dd: error writing"), None);
        assert!((mb_per_s(2_000_000, 2.0) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn marker_read_distinguishes_absent_from_empty() {
        assert_eq!(parse_marker_read("absent"), None);
        assert_eq!(parse_marker_read("present:"), Some(String::new()));
        assert_eq!(parse_marker_read("present:abc"), Some("abc".into()));
    }

    #[test]
    fn inside_view_sections() {
        let out = format!(
            "net:[4026532718]\n{SEP}\n0::/\n{SEP}\ncgroup:[4026532781]\n{SEP}\n8104\n{SEP}\nv1\n{SEP}\nIPC_FROM_ANNOTATION=a=b\nIPC_PLAIN=x\n{SEP}\n20000 100000\n{SEP}\nv1 initial\nv1 initial\n{SEP}\n268435456\n"
        );
        let view = parse_inside_view(&out).unwrap();
        assert_eq!(view.netns, "net:[4026532718]");
        assert_eq!(view.cgroup, "0::/\n");
        assert_eq!(view.cgroup_inode, "8104");
        assert_eq!(view.image_version, "v1\n");
        assert_eq!(view.env["IPC_FROM_ANNOTATION"], "a=b");
        assert_eq!(view.env["IPC_PLAIN"], "x");
        assert_eq!(view.cpu_limit_millicores(), Some(200));
        assert_eq!(view.prestop_log, ["v1 initial", "v1 initial"]);
        assert_eq!(view.memory_limit_bytes(), Some(256 << 20));
        assert!(parse_inside_view("net:[1]\n").is_err());
    }

    #[test]
    fn pod_snapshot_reads_status_fields() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "app-1", "uid": "u1",
                "labels": {"controller-revision-hash": "app-abc"},
                "annotations": {"apps.kruise.io/inplace-update-state": "{\"revision\":\"app-abc\"}"}},
            "spec": {"nodeName": "n1", "containers": [
                {"name": "app", "env": [{"name": "KRUISE_CONTAINER_PRIORITY", "value": "10"}]}],
                "volumes": [{"name": "pvc", "persistentVolumeClaim": {"claimName": "pvc-app-1"}}]},
            "status": {"podIPs": [{"ip": "10.244.0.9"}], "phase": "Running",
                "conditions": [{"type": "InPlaceUpdateReady", "status": "True"}],
                "containerStatuses": [{"name": "app", "containerID": "containerd://abc",
                    "image": "img:v2", "imageID": "img@sha256:1", "restartCount": 1, "ready": true,
                    "state": {"running": {"startedAt": "2026-08-20T10:11:39Z"}},
                    "lastState": {"terminated": {"exitCode": 0, "reason": "Completed",
                        "containerID": "containerd://old"}}}]}
        }))
        .unwrap();
        let inside = parse_inside_view(&format!(
            "net:[1]\n{SEP}\n0::/\n{SEP}\ncgroup:[2]\n{SEP}\n3\n{SEP}\nv2\n{SEP}\n{SEP}\nmax 100000\n{SEP}\n{SEP}\nmax\n"
        ))
        .unwrap();
        let snap = pod_snapshot(&pod, BTreeMap::from([("app".to_string(), inside)])).unwrap();
        assert_eq!(snap.node.as_deref(), Some("n1"));
        assert_eq!(snap.pod_ips, vec!["10.244.0.9"]);
        assert_eq!(snap.revision_label.as_deref(), Some("app-abc"));
        assert_eq!(
            snap.inplace_update_state.as_ref().unwrap()["revision"],
            "app-abc"
        );
        let app = &snap.containers[0];
        assert_eq!(app.status.restart_count, 1);
        assert_eq!(app.priority, Some(10));
        assert_eq!(snap.claims[0].claim, "pvc-app-1");
        assert_eq!(
            app.status.started_at.as_deref(),
            Some("2026-08-20T10:11:39Z")
        );
        let last = app.status.last_terminated.as_ref().unwrap();
        assert_eq!(last.container_id.as_deref(), Some("containerd://old"));
        assert_eq!(snap.condition("InPlaceUpdateReady").unwrap().status, "True");
    }
}
