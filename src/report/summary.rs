//! The run at a glance: verdict counts, the gate's decision, the cluster,
//! the wall time and the first failure of each failed scenario; the first
//! lines of every report and the console's last words.

use super::*;

/// The run at a glance: the first lines of every report and what the
/// terminal prints at the end.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Scenarios per verdict (label, count), only the verdicts that occur.
    pub verdicts: Vec<(String, usize)>,
    pub scenarios: usize,
    pub gate_passed: bool,
    /// Scenarios that block the gate, "cluster / name: VERDICT".
    pub blocking: Vec<String>,
    /// One line per cluster: name, Kubernetes, OpenKruise, runtime, nodes.
    pub clusters: Vec<String>,
    /// On what the verdicts were obtained: runtime, cgroup version (as the
    /// containers saw it), nodes; with how many scenarios each.
    pub platforms: Vec<String>,
    /// From the first scenario's start to the last one's end.
    pub wall_seconds: Option<f64>,
    pub interrupted: Option<String>,
    /// The first failed check (or error) of each scenario that failed.
    pub failures: Vec<String>,
}

impl Summary {
    pub fn of(judged: &[Judged], context: &folder::RunContext) -> Summary {
        let mut verdicts: Vec<(String, usize)> = Vec::new();
        for verdict in [
            Verdict::Pass,
            Verdict::Fail,
            Verdict::Unsupported,
            Verdict::Interrupted,
            Verdict::KnownDefect,
        ] {
            let count = judged.iter().filter(|j| j.verdict == verdict).count();
            if count > 0 {
                verdicts.push((verdict.label().to_string(), count));
            }
        }
        let expected = if context.expected.is_empty() {
            judged.iter().map(|j| j.record.scenario.clone()).collect()
        } else {
            context.expected.clone()
        };
        let cells: std::collections::BTreeSet<String> = judged
            .iter()
            .map(|j| j.record.cluster.cell.clone())
            .collect();
        let cells: Vec<String> = if cells.is_empty() {
            vec![String::new()]
        } else {
            cells.into_iter().collect()
        };
        let expected: Vec<(String, Vec<String>)> =
            cells.into_iter().map(|c| (c, expected.clone())).collect();
        let decision = crate::judge::gate::decide_judged(&context.policy, &expected, judged);
        Summary {
            verdicts,
            scenarios: judged.len(),
            gate_passed: decision.passed,
            blocking: decision.blocking(),
            clusters: cluster_lines(judged),
            platforms: platform_lines(judged),
            wall_seconds: wall_seconds(judged),
            interrupted: context.interrupted.clone(),
            failures: judged
                .iter()
                .filter(|j| j.verdict == Verdict::Fail)
                .map(first_failure)
                .collect(),
        }
    }

    /// The summary as plain lines (the terminal's; the report's bullets).
    pub fn lines(&self) -> Vec<String> {
        let counts: Vec<String> = self
            .verdicts
            .iter()
            .map(|(label, n)| format!("{n} {label}"))
            .collect();
        let mut lines = vec![format!(
            "verdicts: {} of {} scenario(s)",
            if counts.is_empty() {
                "none".to_string()
            } else {
                counts.join(", ")
            },
            self.scenarios
        )];
        lines.push(if self.gate_passed {
            "gate: PASS".to_string()
        } else {
            format!("gate: FAIL, blocked by {}", self.blocking.join(", "))
        });
        for cluster in &self.clusters {
            lines.push(format!("cluster: {cluster}"));
        }
        lines.extend(self.platforms.iter().cloned());
        if let Some(seconds) = self.wall_seconds {
            lines.push(format!(
                "wall time: {} (first scenario start to last scenario end)",
                minutes(seconds)
            ));
        }
        if let Some(signal) = &self.interrupted {
            lines.push(format!(
                "INTERRUPTED by {signal}: the report holds what finished before it"
            ));
        }
        lines
    }
}

pub(super) fn minutes(seconds: f64) -> String {
    let whole = seconds.round() as u64;
    format!("{}m{:02}s", whole / 60, whole % 60)
}

pub(super) fn cluster_lines(judged: &[Judged]) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for j in judged.iter().filter(|j| !j.record.cluster.name.is_empty()) {
        let c = &j.record.cluster;
        let line = format!(
            "{}{}: Kubernetes {}, OpenKruise {}, runtime {}, {} node(s){}",
            c.name,
            if c.cell.is_empty() {
                String::new()
            } else {
                format!(" (cell {})", c.cell)
            },
            or_unknown(&c.server_version),
            c.kruise_version.as_deref().unwrap_or("?"),
            or_unknown(&c.runtime),
            c.nodes.len(),
            if c.identity.is_empty() {
                String::new()
            } else {
                format!("; as {}", c.identity)
            }
        );
        if !lines.contains(&line) {
            lines.push(line);
        }
    }
    lines
}

/// "containerd://1.6.20, cgroup v1, 1 node: 37 scenario(s)", one line per
/// platform; then, when no verdict saw cgroup v2, a line saying so, so that
/// nobody reads a cgroup v1 verdict as a cgroup v2 one.
pub(super) fn platform_lines(judged: &[Judged]) -> Vec<String> {
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    let mut cgroups = std::collections::BTreeSet::new();
    for j in judged {
        let Some(platform) = crate::judge::platform::obtained_on(&j.record) else {
            continue;
        };
        cgroups.insert(platform.cgroup.clone());
        *counts.entry(platform.cluster_side()).or_default() += 1;
    }
    let mut lines: Vec<String> = counts
        .into_iter()
        .map(|(platform, n)| format!("verdicts obtained on {platform}: {n} scenario(s)"))
        .collect();
    if cgroups.contains("v1") && !cgroups.iter().any(|c| c.contains("v2")) {
        lines.push(
            "cgroup v1 only (no container saw cgroup v2): these verdicts say nothing of cgroup \
             v2 nodes"
                .to_string(),
        );
    }
    lines
}

pub(super) fn wall_seconds(judged: &[Judged]) -> Option<f64> {
    let parse = crate::time_key;
    let start = judged
        .iter()
        .filter_map(|j| parse(&j.record.started_at))
        .min()?;
    let end = judged
        .iter()
        .filter_map(|j| parse(&j.record.finished_at))
        .max()?;
    Some(end.duration_since(start).as_secs_f64())
}

pub(super) fn first_failure(judged: &Judged) -> String {
    let why = judged
        .record
        .error
        .as_ref()
        .map(|e| format!("stopped early: {e}"))
        .or_else(|| {
            assess::failures(&judged.checks).first().map(|c| {
                format!(
                    "[{}] expected {}, observed {}",
                    c.name, c.expected, c.observed
                )
            })
        })
        .unwrap_or_default();
    format!("{}: {why}", judged.record.scenario)
}
