//! A kruise-system component killed while an update is under way, one entry
//! per component: kruise-manager (the controller that drives an in-place
//! update and holds its state in the pod; also the webhooks) right after a
//! CloneSet image update is triggered, and kruise-daemon (what restarts a
//! container for an env-from-metadata update) right after that update.
//! Their Deployment and DaemonSet must bring them back, and the update must
//! then finish from the pod's recorded state.

use std::time::Instant;

use async_trait::async_trait;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams};
use kube::runtime::watcher;

use super::{Fault, FaultContext, FaultPoint};
use crate::model::event;
use crate::model::permission::Permission;
use crate::model::record::FaultRecord;
use crate::observe::wait::{self, Poll, WaitContext};

#[derive(Debug)]
pub struct ComponentKilled {
    pub name: &'static str,
    /// The pods' `control-plane` label in kruise-system.
    pub component: &'static str,
}

pub const MANAGER_KILLED: ComponentKilled = ComponentKilled {
    name: "kruise-manager-killed",
    component: "controller-manager",
};

pub const DAEMON_RESTARTED: ComponentKilled = ComponentKilled {
    name: "kruise-daemon-restarted",
    component: "daemon",
};

#[async_trait]
impl Fault for ComponentKilled {
    fn name(&self) -> &'static str {
        self.name
    }

    fn point(&self) -> FaultPoint {
        FaultPoint::DuringUpdate
    }

    fn needs(&self) -> Vec<Permission> {
        vec![Permission::new(
            "delete",
            "pods",
            crate::observe::kruise::SYSTEM_NAMESPACE,
        )]
    }

    async fn inject(&self, ctx: &FaultContext<'_>) -> anyhow::Result<FaultRecord> {
        kill_component(ctx, self, self.component).await
    }
}

/// Deletes the kruise-system pods labelled `control-plane=<component>` at
/// once (grace 0: killed, not stopped), then waits, watching, for a ready
/// replacement. Returns what was killed and the replacement's readiness.
async fn kill_component(
    ctx: &FaultContext<'_>,
    fault: &dyn Fault,
    component: &str,
) -> anyhow::Result<FaultRecord> {
    let pods: Api<Pod> =
        Api::namespaced(ctx.client.clone(), crate::observe::kruise::SYSTEM_NAMESPACE);
    let selector = format!("control-plane={component}");
    let victims = pods
        .list(&ListParams::default().labels(&selector))
        .await?
        .items;
    anyhow::ensure!(
        !victims.is_empty(),
        "no kruise-system pod labelled {selector} to kill"
    );
    let killed: Vec<(String, String)> = victims
        .iter()
        .map(|p| {
            (
                p.metadata.name.clone().unwrap_or_default(),
                p.metadata.uid.clone().unwrap_or_default(),
            )
        })
        .collect();
    let started = Instant::now();
    let now = DeleteParams {
        grace_period_seconds: Some(0),
        ..Default::default()
    };
    for (name, _) in &killed {
        pods.delete(name, &now).await?;
    }
    let names: Vec<&str> = killed.iter().map(|(n, _)| n.as_str()).collect();
    event::note(
        ctx.label,
        format!("fault {}: killed {}", fault.name(), names.join(", ")),
    );
    let ctx_wait = WaitContext {
        client: ctx.client.clone(),
        namespace: crate::observe::kruise::SYSTEM_NAMESPACE.to_string(),
        label: ctx.label.to_string(),
    };
    let triggers = watcher(pods.clone(), watcher::Config::default().labels(&selector))
        .map(|_| ())
        .boxed();
    let what = format!(
        "a new ready {component} pod after the fault {}",
        fault.name()
    );
    let replacement = wait::until_watched(&ctx_wait, &what, ctx.deadline, triggers, || async {
        let now = pods
            .list(&ListParams::default().labels(&selector))
            .await?
            .items;
        let fresh = now.iter().find(|p| {
            let uid = p.metadata.uid.clone().unwrap_or_default();
            !killed.iter().any(|(_, u)| *u == uid) && crate::workloads::pod_ready(p).is_ok()
        });
        Ok(match fresh {
            Some(pod) => Poll::Ready(pod.metadata.name.clone().unwrap_or_default()),
            None => Poll::Pending(format!(
                "{} pod(s) labelled {selector}, none new and ready",
                now.len()
            )),
        })
    })
    .await?;
    let ready = started.elapsed();
    let mut evidence = format!(
        "replacement {replacement} ready {:.1} s later; the killed pod(s) are gone",
        ready.as_secs_f64()
    );
    if component == "controller-manager" {
        // Ready is not serving: until its webhooks answer, even reading a
        // CloneSet in another version than stored fails (conversion).
        let what = format!(
            "kruise's webhooks to answer after the fault {}",
            fault.name()
        );
        wait::until(&ctx_wait, &what, ctx.deadline, || cloneset_reads(ctx)).await?;
        evidence.push_str(&format!(
            "; its webhooks (CloneSet conversion) answered {:.1} s after the kill",
            started.elapsed().as_secs_f64()
        ));
    }
    let recovered = started.elapsed();
    Ok(super::record(
        fault,
        format!(
            "deleted kruise-system pod(s) {} with grace 0",
            names.join(", ")
        ),
        evidence,
        Some(recovered),
    ))
}

/// The scenario's CloneSets read in every served version: a version other
/// than the stored one goes through kruise's conversion webhook.
async fn cloneset_reads(ctx: &FaultContext<'_>) -> anyhow::Result<Poll<()>> {
    let group = kube::discovery::group(ctx.client, crate::observe::kruise::GROUP).await?;
    for version in group.versions() {
        let Some((resource, _)) = group
            .versioned_resources(version)
            .into_iter()
            .find(|(r, _)| r.kind == "CloneSet")
        else {
            continue;
        };
        let api: Api<kube::api::DynamicObject> =
            Api::namespaced_with(ctx.client.clone(), ctx.namespace, &resource);
        if let Err(err) = api.list(&ListParams::default()).await {
            return Ok(Poll::Pending(format!(
                "CloneSet {version}: {}",
                crate::observe::kruise::api_error_text(&err)
            )));
        }
    }
    Ok(Poll::Ready(()))
}
