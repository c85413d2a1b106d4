//! An image change whose rollout must halt, held, then reverted: the new
//! image cannot be pulled (a reference nobody pushed), or it starts and
//! never becomes ready (a version the fixture's readiness probe refuses).
//! With `maxUnavailable` pods unavailable the controller must stop there,
//! leave every other pod alone through the hold, and take the pods that
//! took it back in place once the old template returns. The session runs
//! the hold and the revert (`run::session`, [`Halt`]); this file plans and
//! edits.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::{ContainerStatus, Pod, PodCondition};
use serde_json::json;

use super::{Change, Plan, container_mut, token};
use crate::model::record::{ChangeRecord, ContainerSample, PodSample};

/// What a pod that took the change shows while the rollout is halted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stuck {
    /// Waiting in ErrImagePull or ImagePullBackOff.
    ImagePull,
    /// Running the new image, never ready.
    Unready,
    /// Held by the fixture's in-place update hook in PreparingUpdate, its
    /// old container running, before the image reaches it (OpenKruise
    /// issue 1156: a rollback then must not leave it stuck).
    AtHook,
    /// A resize the node cannot give: `PodResizePending`, the running
    /// container untouched and ready.
    ResizePending,
    /// A resize the kubelet tried and refused (a memory limit below the
    /// container's usage): `PodResizeInProgress` with reason Error, the
    /// container untouched and ready.
    ResizeRefused,
}

/// The pod condition of a resize the kubelet cannot carry out yet.
pub const RESIZE_PENDING: &str = "PodResizePending";

/// The pod condition of a resize the kubelet is carrying out; reason
/// Error when it failed.
pub const RESIZE_IN_PROGRESS: &str = "PodResizeInProgress";

/// The kubelet's words for a memory limit decrease below the usage
/// (`validateMemoryResizeAction`).
pub const BELOW_USAGE: &str = "below current usage";

/// kruise's lifecycle state of a pod waiting at its in-place hook.
pub const PREPARING_UPDATE: &str = "PreparingUpdate";

/// The kubelet's waiting reasons while an image cannot be had.
pub const PULL_FAILING: &[&str] = &["ErrImagePull", "ImagePullBackOff"];

impl Stuck {
    pub fn describe(self) -> &'static str {
        match self {
            Stuck::ImagePull => "image pull failing",
            Stuck::Unready => "running, never ready",
            Stuck::AtHook => "waiting at the in-place hook",
            Stuck::ResizePending => "resize pending, still ready",
            Stuck::ResizeRefused => "resize refused by the kubelet, still ready",
        }
    }

    /// A resize left undone: the pod keeps its container and stays ready,
    /// and the workload may count it updated.
    pub fn is_resize(self) -> bool {
        matches!(self, Stuck::ResizePending | Stuck::ResizeRefused)
    }

    /// The resize condition of `pod` that shows the state, if any. A
    /// refusal counts only for the reason the scenario is about: the
    /// kubelet also fails a decrease while it cannot read the pod's usage
    /// yet ("unable to read memory usage", seen once in three runs), and
    /// says why on its next try.
    pub fn resize_condition(self, pod: &Pod) -> Option<&PodCondition> {
        let (wanted, reason, words) = match self {
            Stuck::ResizePending => (RESIZE_PENDING, None, ""),
            Stuck::ResizeRefused => (RESIZE_IN_PROGRESS, Some("Error"), BELOW_USAGE),
            _ => return None,
        };
        pod.status.as_ref()?.conditions.as_ref()?.iter().find(|c| {
            c.type_ == wanted
                && c.status == "True"
                && reason.is_none_or(|r| c.reason.as_deref() == Some(r))
                && c.message.as_deref().unwrap_or("").contains(words)
        })
    }

    /// Whether the pods that show it have taken a new image (they wait at
    /// the hook before it reaches them; a resize changes no image).
    pub fn takes_the_image(self) -> bool {
        matches!(self, Stuck::ImagePull | Stuck::Unready)
    }

    /// A pod as the API reports it shows the state: for the image states,
    /// its spec names `image` and `container` shows it.
    pub fn shown_by(self, pod: &Pod, container: &str, image: &str) -> bool {
        match self {
            Stuck::AtHook => {
                return crate::observe::timeline::lifecycle_state(pod) == PREPARING_UPDATE;
            }
            Stuck::ResizePending | Stuck::ResizeRefused => {
                return self.resize_condition(pod).is_some();
            }
            _ => {}
        }
        let names_it = pod.spec.as_ref().is_some_and(|s| {
            s.containers
                .iter()
                .any(|c| c.name == container && c.image.as_deref() == Some(image))
        });
        let statuses = pod
            .status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref());
        names_it
            && statuses.is_some_and(|cs| {
                cs.iter()
                    .any(|c| c.name == container && self.shown_by_container(c))
            })
    }

    fn shown_by_container(self, status: &ContainerStatus) -> bool {
        let state = status.state.as_ref();
        match self {
            Stuck::ImagePull => state
                .and_then(|s| s.waiting.as_ref())
                .and_then(|w| w.reason.as_deref())
                .is_some_and(|r| PULL_FAILING.contains(&r)),
            Stuck::Unready => state.and_then(|s| s.running.as_ref()).is_some() && !status.ready,
            Stuck::AtHook | Stuck::ResizePending | Stuck::ResizeRefused => false,
        }
    }

    /// A pod as the timeline recorded it shows the state.
    pub fn sampled_by(self, pod: &PodSample, sample: &ContainerSample) -> bool {
        match self {
            Stuck::ImagePull => {
                sample.state == "waiting" && PULL_FAILING.contains(&sample.reason.as_str())
            }
            Stuck::Unready => sample.state == "running" && !sample.ready,
            Stuck::AtHook => pod.lifecycle_state == PREPARING_UPDATE,
            Stuck::ResizePending => pod.conditions.get(RESIZE_PENDING) == Some(&true),
            Stuck::ResizeRefused => pod.conditions.get(RESIZE_IN_PROGRESS) == Some(&true),
        }
    }

    /// The state as recorded (`HoldRecord::state`), back.
    pub fn from_description(text: &str) -> Option<Stuck> {
        [
            Stuck::ImagePull,
            Stuck::Unready,
            Stuck::AtHook,
            Stuck::ResizePending,
            Stuck::ResizeRefused,
        ]
        .into_iter()
        .find(|s| s.describe() == text)
    }
}

/// How the session runs a halting change.
#[derive(Debug, Clone, Copy)]
pub struct Halt {
    pub stuck: Stuck,
    /// How long the halted rollout is watched before the revert.
    pub hold: Duration,
}

#[derive(Debug)]
pub struct HaltedImage {
    pub container: &'static str,
    pub stuck: Stuck,
    /// For `Unready`: the content version the fixture's probe refuses.
    pub version: Option<&'static str>,
    pub hold_seconds: u64,
}

#[async_trait::async_trait]
impl Change for HaltedImage {
    fn kind(&self) -> &'static str {
        match self.stuck {
            Stuck::ImagePull => "unpullable-image-reverted",
            Stuck::Unready => "unready-image-reverted",
            Stuck::AtHook => "hooked-image-rolled-back",
            Stuck::ResizePending => "impossible-resize-corrected",
            Stuck::ResizeRefused => "memory-below-usage-refused",
        }
    }

    fn images(&self) -> Vec<(&'static str, &'static str)> {
        self.version
            .map(|v| vec![(self.container, v)])
            .unwrap_or_default()
    }

    fn halts(&self) -> Option<Halt> {
        Some(Halt {
            stuck: self.stuck,
            hold: Duration::from_secs(self.hold_seconds),
        })
    }

    /// The image goes into `details`, not `images`: after the revert no
    /// pod runs it, and the checks of a new image must not look for it.
    fn plan(&self, plan: &Plan) -> anyhow::Result<ChangeRecord> {
        let current = super::container_image(plan.template, self.container)?;
        let (image, what) = match (self.stuck, self.version) {
            (Stuck::Unready | Stuck::AtHook, Some(version)) => {
                let delivered = plan
                    .images
                    .get(self.container)
                    .ok_or_else(|| anyhow::anyhow!("no image delivered for {}", self.container))?;
                let why = match self.stuck {
                    Stuck::Unready => "which the fixture's readiness probe refuses",
                    _ => "rolled back while a pod waits at the in-place hook",
                };
                (delivered.reference.clone(), format!("{version}, {why}"))
            }
            (Stuck::Unready | Stuck::AtHook, None) => {
                anyhow::bail!("{} needs a version", self.kind())
            }
            (Stuck::ResizePending | Stuck::ResizeRefused, _) => {
                anyhow::bail!("a resize is ImpossibleCpuRequest's or MemoryBelowUsage's")
            }
            (Stuck::ImagePull, _) => (
                unpullable(&current, &token()),
                "a tag nobody pushed".to_string(),
            ),
        };
        Ok(ChangeRecord {
            kind: self.kind().into(),
            description: format!(
                "image of {} -> {what}; held {} s, then the old template back",
                self.container, self.hold_seconds
            ),
            containers: vec![self.container.to_string()],
            details: BTreeMap::from([
                ("image".to_string(), image),
                ("image before".to_string(), current),
            ]),
            ..Default::default()
        })
    }

    fn edit(&self, template: &mut serde_json::Value, planned: &ChangeRecord) -> anyhow::Result<()> {
        let image = planned
            .details
            .get("image")
            .ok_or_else(|| anyhow::anyhow!("no image planned"))?;
        container_mut(template, self.container)?["image"] = json!(image);
        Ok(())
    }
}

/// The same repository under a tag made for this run, which nobody pushed:
/// the pull fails wherever the images come from (the run's registry, the
/// user's, or preloaded images with a local name).
pub fn unpullable(image: &str, token: &str) -> String {
    let (repository, _) = crate::environment::images::split_image(image);
    format!("{repository}:absent-{token}")
}

#[cfg(test)]
mod tests {
    use super::super::tests::{apply, touched};
    use super::*;

    #[test]
    fn an_unpullable_image_is_a_new_tag_of_the_same_repository() {
        let (edited, planned) = apply(&HaltedImage {
            container: "app",
            stuck: Stuck::ImagePull,
            version: None,
            hold_seconds: 60,
        });
        assert_eq!(touched(&edited), vec!["/spec/containers/0/image"]);
        let image = &planned.details["image"];
        assert!(image.starts_with("img:absent-"), "{image}");
        assert_eq!(planned.details["image before"], "img:v1");
        assert!(planned.images.is_empty(), "no pod runs it afterwards");
        assert_eq!(planned.kind, "unpullable-image-reverted");
        assert_eq!(
            unpullable("reg:5000/ns/workload:s1-v1", "abc"),
            "reg:5000/ns/workload:absent-abc"
        );
    }

    #[test]
    fn an_unready_image_is_the_delivered_version() {
        let (_, planned) = apply(&HaltedImage {
            container: "app",
            stuck: Stuck::Unready,
            version: Some("v2"),
            hold_seconds: 60,
        });
        assert_eq!(planned.details["image"], "reg/app:s1-v2");
        assert!(planned.description.contains("readiness probe refuses"));
    }

    /// A memory decrease refused for want of stats is not the refusal the
    /// scenario is about; the one below usage is.
    #[test]
    fn only_a_refusal_below_usage_shows_the_refused_state() {
        let pod = |message: &str| -> Pod {
            serde_json::from_value(json!({"status": {"conditions": [{
                "type": RESIZE_IN_PROGRESS, "status": "True", "reason": "Error",
                "message": message}]}}))
            .unwrap()
        };
        let stats = pod("unable to read memory usage for pod \"app-x\"");
        let below = pod(
            "cannot decrease memory limits: attempting to set container \"app\" \
                         memory limit (100663296) below current usage (0)",
        );
        assert!(!Stuck::ResizeRefused.shown_by(&stats, "app", ""));
        assert!(Stuck::ResizeRefused.shown_by(&below, "app", ""));
        assert!(!Stuck::ResizePending.shown_by(&below, "app", ""));
        assert!(Stuck::ResizeRefused.is_resize() && !Stuck::Unready.is_resize());
    }

    #[test]
    fn the_stuck_states_are_read_from_the_timeline() {
        let sample = |state: &str, reason: &str, ready: bool| ContainerSample {
            state: state.into(),
            reason: reason.into(),
            ready,
            ..Default::default()
        };
        let pod = PodSample::default();
        assert!(Stuck::ImagePull.sampled_by(&pod, &sample("waiting", "ImagePullBackOff", false)));
        assert!(!Stuck::ImagePull.sampled_by(&pod, &sample("waiting", "ContainerCreating", false)));
        assert!(Stuck::Unready.sampled_by(&pod, &sample("running", "", false)));
        assert!(!Stuck::Unready.sampled_by(&pod, &sample("running", "", true)));
        let at_hook = PodSample {
            lifecycle_state: PREPARING_UPDATE.into(),
            ..Default::default()
        };
        assert!(Stuck::AtHook.sampled_by(&at_hook, &sample("running", "", false)));
        assert!(!Stuck::AtHook.sampled_by(&pod, &sample("running", "", false)));
        for s in [Stuck::ImagePull, Stuck::Unready, Stuck::AtHook] {
            assert_eq!(Stuck::from_description(s.describe()), Some(s));
        }
    }
}
