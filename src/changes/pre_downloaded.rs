//! An image change held back by the workload's partition until OpenKruise
//! has pre-downloaded the new image (`PreDownloadImageForInPlaceUpdate`):
//! kruise creates an ImagePullJob for the new revision's images and
//! kruise-daemon pulls them onto the nodes of the pods still on the old
//! revision. The session waits for that job, then lowers the partition
//! (`run::predownload`); the pods are then updated in place like any image
//! change, so the change keeps the kind `image` and its rows.

use super::{Change, Image, Plan};
use crate::model::record::ChangeRecord;

/// The planned record's mark: the kubelet finds the image on the node
/// instead of pulling it (its Pulled event, not Pulling, is awaited).
pub const PRE_DOWNLOADED: &str = "pre-downloaded";

#[derive(Debug)]
pub struct PreDownloadedImage {
    pub image: Image,
}

#[async_trait::async_trait]
impl Change for PreDownloadedImage {
    fn kind(&self) -> &'static str {
        self.image.kind()
    }

    fn images(&self) -> Vec<(&'static str, &'static str)> {
        self.image.images()
    }

    fn pre_downloads(&self) -> bool {
        true
    }

    fn plan(&self, plan: &Plan) -> anyhow::Result<ChangeRecord> {
        let mut planned = self.image.plan(plan)?;
        planned.details.insert(PRE_DOWNLOADED.into(), "true".into());
        planned
            .description
            .push_str(", pre-downloaded before the partition is lowered");
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
    fn it_edits_like_an_image_change_and_asks_for_the_pre_download() {
        let change = PreDownloadedImage {
            image: Image {
                to: &[("app", "v2")],
            },
        };
        let (edited, planned) = apply(&change);
        assert_eq!(touched(&edited), vec!["/spec/containers/0/image"]);
        assert_eq!(planned.kind, "image");
        assert_eq!(planned.details[PRE_DOWNLOADED], "true");
        assert!(change.pre_downloads());
        assert!(!change.image.pre_downloads());
    }
}
