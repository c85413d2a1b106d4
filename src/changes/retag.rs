//! The same image content under a new reference (another tag of the same
//! image): a new `image` string in the template whose image ID does not
//! change. OpenKruise's in-place completion check compares image IDs
//! (`inplace_update_defaults.go`: "we assume that users should not update
//! workload template with new image which actually has the same imageID");
//! its issues 635 and 1493 report updates like this one that never finish.

use super::{Change, Image, Plan};
use crate::model::record::ChangeRecord;

/// The kind a retag's steps are recorded (and judged) under.
pub const RETAG: &str = "retag";

#[derive(Debug)]
pub struct Retag {
    /// (container, the content version it already runs).
    pub to: &'static [(&'static str, &'static str)],
}

#[async_trait::async_trait]
impl Change for Retag {
    fn kind(&self) -> &'static str {
        RETAG
    }

    fn images(&self) -> Vec<(&'static str, &'static str)> {
        self.to.to_vec()
    }

    fn plan(&self, plan: &Plan) -> anyhow::Result<ChangeRecord> {
        let mut record = Image { to: self.to }.plan(plan)?;
        record.kind = self.kind().into();
        record.description = self
            .to
            .iter()
            .map(|(container, version)| {
                format!("image of {container} -> the same {version} content under a new tag")
            })
            .collect::<Vec<_>>()
            .join(", ");
        Ok(record)
    }

    fn edit(&self, template: &mut serde_json::Value, planned: &ChangeRecord) -> anyhow::Result<()> {
        Image { to: self.to }.edit(template, planned)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{apply, touched};
    use super::*;

    #[test]
    fn a_retag_edits_only_the_image_and_says_so() {
        let (edited, record) = apply(&Retag {
            to: &[("app", "v1")],
        });
        assert_eq!(record.kind, "retag");
        assert!(record.description.contains("same v1 content"));
        assert_eq!(touched(&edited), vec!["/spec/containers/0/image"]);
    }
}
