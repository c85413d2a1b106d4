//! An image change the session conducts around its rollout, keeping the
//! kind `image` and its rows (the pods are updated like by any image
//! change); what is done around it is data, one entry per way:
//!
//! - [`PRE_DOWNLOAD`]: held back by the workload's partition until
//!   OpenKruise has pre-downloaded the new image
//!   (`PreDownloadImageForInPlaceUpdate`: an ImagePullJob for the new
//!   revision's images, pulled by kruise-daemon onto the nodes of the pods
//!   still on the old revision); the session waits for that job, then
//!   lowers the partition to 0 (`run::predownload`);
//! - [`CORDON`]: made with the nodes of the workload's pods cordoned first,
//!   as a node drain or upgrade does: an in-place update needs no
//!   scheduling, so it still happens on the cordoned node; a recreate needs
//!   a new pod, which the scheduler must put elsewhere (`run::cordon`).

use super::{Change, Image, Plan};
use crate::model::record::ChangeRecord;

/// One way of conducting an image change.
#[derive(Debug)]
pub struct Conduct {
    /// The planned record's mark (`details[mark] = "true"`).
    pub mark: &'static str,
    /// Appended to the change's description.
    pub says: &'static str,
}

/// The planned record's mark of a pre-downloaded change: the kubelet finds
/// the image on the node instead of pulling it (its Pulled event, not
/// Pulling, is awaited).
pub const PRE_DOWNLOADED: &str = "pre-downloaded";
/// The planned record's mark of a change made with the nodes cordoned.
pub const CORDONED: &str = "cordoned";

pub const PRE_DOWNLOAD: Conduct = Conduct {
    mark: PRE_DOWNLOADED,
    says: ", pre-downloaded before the partition is lowered",
};
pub const CORDON: Conduct = Conduct {
    mark: CORDONED,
    says: ", the pods' nodes cordoned first",
};

#[derive(Debug)]
pub struct ConductedImage {
    pub image: Image,
    pub conduct: &'static Conduct,
}

#[async_trait::async_trait]
impl Change for ConductedImage {
    fn kind(&self) -> &'static str {
        self.image.kind()
    }

    fn images(&self) -> Vec<(&'static str, &'static str)> {
        self.image.images()
    }

    fn pre_downloads(&self) -> bool {
        self.conduct.mark == PRE_DOWNLOADED
    }

    fn cordons(&self) -> bool {
        self.conduct.mark == CORDONED
    }

    fn plan(&self, plan: &Plan) -> anyhow::Result<ChangeRecord> {
        let mut planned = self.image.plan(plan)?;
        planned
            .details
            .insert(self.conduct.mark.into(), "true".into());
        planned.description.push_str(self.conduct.says);
        Ok(planned)
    }

    fn edit(&self, template: &mut serde_json::Value, planned: &ChangeRecord) -> anyhow::Result<()> {
        self.image.edit(template, planned)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{apply, touched};
    use super::*;

    #[test]
    fn it_edits_like_an_image_change_and_asks_for_its_conduct() {
        for (conduct, mark) in [(&PRE_DOWNLOAD, PRE_DOWNLOADED), (&CORDON, CORDONED)] {
            let change = ConductedImage {
                image: Image {
                    to: &[("app", "v2")],
                },
                conduct,
            };
            let (edited, planned) = apply(&change);
            assert_eq!(touched(&edited), vec!["/spec/containers/0/image"]);
            assert_eq!(planned.kind, "image");
            assert_eq!(planned.details[mark], "true");
            assert_eq!(change.pre_downloads(), mark == PRE_DOWNLOADED);
            assert_eq!(change.cordons(), mark == CORDONED);
            assert!(!change.image.pre_downloads() && !change.image.cordons());
        }
    }
}
