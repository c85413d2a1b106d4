//! The node's containerd restarted between the marker write and the
//! update: running containers must outlive it (their shims do), and the
//! in-place update that follows must find the runtime back. Needs the kind
//! node (a foreign cluster's nodes are not the suite's to restart).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{Fault, FaultContext, FaultPoint};
use crate::model::event;
use crate::model::record::FaultRecord;
use crate::observe::wait::{self, Poll, WaitContext};

#[derive(Debug)]
pub struct ContainerdRestarted;

const MAIN_PID: &[&str] = &[
    "systemctl",
    "show",
    "-p",
    "MainPID",
    "--value",
    "containerd",
];
/// The node image carries containerd's own client, not crictl.
const TASKS: &[&str] = &["ctr", "--namespace", "k8s.io", "tasks", "list"];

#[async_trait]
impl Fault for ContainerdRestarted {
    fn name(&self) -> &'static str {
        "node-containerd-restarted"
    }

    fn point(&self) -> FaultPoint {
        FaultPoint::BeforeChange
    }

    fn unsupported(&self, node_access: bool) -> Option<String> {
        (!node_access).then(|| {
            "restarting a node's containerd needs the kind node (this cluster was given by \
             kubeconfig only); hint: run the faults profile on a kind cluster"
                .to_string()
        })
    }

    async fn inject(&self, ctx: &FaultContext<'_>) -> anyhow::Result<FaultRecord> {
        let node = ctx.node.expect("checked by unsupported()");
        let exec = |argv: &'static [&'static str]| node.exec(argv);
        let pid_before = exec(MAIN_PID).await?.trim().to_string();
        let running_before = running(&exec(TASKS).await?);
        let started = Instant::now();
        exec(&["systemctl", "restart", "containerd"]).await?;
        event::note(
            ctx.label,
            format!(
                "fault {}: containerd (pid {pid_before}) restarted on {}",
                self.name(),
                node.name()
            ),
        );
        let ctx_wait = WaitContext {
            client: ctx.client.clone(),
            namespace: ctx.namespace.to_string(),
            label: ctx.label.to_string(),
        };
        let what = format!(
            "containerd on {} to answer again after the fault",
            node.name()
        );
        let (pid_after, running_after) = wait::until(&ctx_wait, &what, ctx.deadline, || async {
            let pid = exec(MAIN_PID).await.unwrap_or_default().trim().to_string();
            Ok(match exec(TASKS).await {
                Ok(out) if pid != pid_before && pid != "0" => Poll::Ready((pid, running(&out))),
                Ok(_) => Poll::Pending(format!("containerd MainPID {pid}")),
                Err(err) => Poll::Pending(format!("ctr: {err:#}")),
            })
        })
        .await?;
        let recovered: Duration = started.elapsed();
        let survived = running_before.intersection(&running_after).count();
        Ok(super::record(
            self,
            format!("systemctl restart containerd on node {}", node.name()),
            format!(
                "containerd MainPID {pid_before} -> {pid_after}; {survived} of {} running \
                 task(s) still running under the same IDs; CRI answered {:.1} s later",
                running_before.len(),
                recovered.as_secs_f64()
            ),
            Some(recovered),
        ))
    }
}

/// The RUNNING task IDs of `ctr tasks list` (columns TASK, PID, STATUS).
fn running(output: &str) -> BTreeSet<String> {
    output
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            (fields.len() == 3 && fields[2] == "RUNNING").then(|| fields[0].to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn running_tasks_are_read_from_ctr() {
        let out = "TASK    PID     STATUS\nabc     12      RUNNING\ndef     0       STOPPED\n";
        assert_eq!(
            super::running(out).into_iter().collect::<Vec<_>>(),
            vec!["abc"]
        );
    }
}
