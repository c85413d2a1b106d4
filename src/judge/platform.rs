//! On what a verdict was obtained: the nodes' container runtime, the cgroup
//! version the scenario's own containers saw, and the topology (the
//! cluster's nodes and those the pods ran on). A cgroup v1 verdict must not
//! be read as a cgroup v2 one, so the version is read from the recording
//! (`/proc/self/cgroup` of each probed container), not assumed from the
//! machine.

use std::collections::BTreeSet;

use crate::model::record::ScenarioRecord;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Platform {
    /// The nodes' runtimes as the kubelets report them (`containerd://1.6.20`).
    pub runtime: String,
    /// "v1", "v2", or "v1 and v2" when the containers disagreed; empty when
    /// no container was probed.
    pub cgroup: String,
    /// How many nodes the cluster had.
    pub nodes: usize,
    /// The nodes the scenario's pods were seen on.
    pub pod_nodes: BTreeSet<String>,
}

impl Platform {
    /// "containerd://1.6.20, cgroup v1, 4 nodes (pods on 3)".
    pub fn describe(&self) -> String {
        let runtime = if self.runtime.is_empty() {
            "runtime unknown"
        } else {
            &self.runtime
        };
        let cgroup = if self.cgroup.is_empty() {
            "cgroup not observed".to_string()
        } else {
            format!("cgroup {}", self.cgroup)
        };
        format!("{runtime}, {cgroup}, {}", self.topology())
    }

    /// "containerd://1.6.20, cgroup v1, 4 nodes": what the run's summary
    /// groups verdicts by.
    pub fn cluster_side(&self) -> String {
        let mut whole = self.clone();
        whole.pod_nodes.clear();
        whole.describe()
    }

    /// "1 node" or "4 nodes (pods on 3)".
    pub fn topology(&self) -> String {
        match (self.nodes, self.pod_nodes.len()) {
            (1, _) => "1 node".to_string(),
            (n, 0) => format!("{n} nodes"),
            (n, used) => format!("{n} nodes (pods on {used})"),
        }
    }
}

/// `cluster_side()` of a record that probed a container; `None` for one
/// that obtained no verdict on a platform (UNSUPPORTED, refused before any
/// pod).
pub fn obtained_on(record: &ScenarioRecord) -> Option<Platform> {
    Some(of(record)).filter(|p| !p.cgroup.is_empty())
}

pub fn of(record: &ScenarioRecord) -> Platform {
    let pods = record
        .steps
        .iter()
        .flat_map(|s| &s.pods)
        .flat_map(|p| [&p.before, &p.after]);
    let mut versions = BTreeSet::new();
    let mut pod_nodes = BTreeSet::new();
    for pod in pods {
        pod_nodes.extend(pod.node.iter().cloned());
        versions.extend(
            pod.containers
                .iter()
                .filter_map(|c| cgroup_version(&c.inside.cgroup)),
        );
    }
    Platform {
        runtime: record.cluster.runtime.clone(),
        cgroup: versions.into_iter().collect::<Vec<_>>().join(" and "),
        nodes: record.cluster.nodes.len(),
        pod_nodes,
    }
}

/// The cgroup version of a `/proc/self/cgroup` text: v2 has only the
/// unified `0::` line; v1 (and the hybrid layout, whose controllers are
/// v1) has a line per controller hierarchy.
pub fn cgroup_version(proc_self_cgroup: &str) -> Option<&'static str> {
    let lines: Vec<&str> = proc_self_cgroup
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        return None;
    }
    Some(if lines.iter().all(|l| l.starts_with("0::")) {
        "v2"
    } else {
        "v1"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cgroup_version_is_read_from_what_the_container_saw() {
        assert_eq!(cgroup_version("0::/\n"), Some("v2"));
        assert_eq!(
            cgroup_version(
                "12:memory:/kubepods/burstable/pod1/abc\n11:cpu,cpuacct:/kubepods/x\n0::/\n"
            ),
            Some("v1")
        );
        assert_eq!(cgroup_version(""), None);
    }

    #[test]
    fn a_recorded_single_node_run_says_runtime_cgroup_and_topology() {
        let text = include_str!("../../fixtures/observations/quirks/prestop-double-stop.json");
        let record: ScenarioRecord = serde_json::from_str(text).unwrap();
        let platform = of(&record);
        assert!(platform.runtime.starts_with("containerd://"));
        assert_eq!(platform.cgroup, "v1");
        assert_eq!(platform.topology(), "1 node");
        assert!(platform.describe().contains(", cgroup v1, 1 node"));
    }

    #[test]
    fn a_recorded_spread_names_how_many_nodes_the_pods_used() {
        let text = include_str!("../../fixtures/observations/asts-spread.json");
        let record: ScenarioRecord = serde_json::from_str(text).unwrap();
        let platform = of(&record);
        assert_eq!(platform.nodes, 4);
        assert_eq!(platform.topology(), "4 nodes (pods on 3)");
    }
}
