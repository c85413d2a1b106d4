//! A template label and annotation that no env references: patched onto the
//! pod (`MetaDataPatch`), no container restarts.

use std::collections::BTreeMap;

use super::{Change, Plan, set_metadata, token};
use crate::model::record::ChangeRecord;

pub const LABEL: &str = "inplace-conformance/touch";
pub const ANNOTATION: &str = "inplace-conformance/note";

#[derive(Debug)]
pub struct Metadata;

#[async_trait::async_trait]
impl Change for Metadata {
    fn kind(&self) -> &'static str {
        "metadata"
    }

    fn plan(&self, _plan: &Plan) -> anyhow::Result<ChangeRecord> {
        let (label, note) = (token(), token());
        Ok(ChangeRecord {
            kind: self.kind().into(),
            description: format!("template label {LABEL}={label}, annotation {ANNOTATION}={note}"),
            labels: BTreeMap::from([(LABEL.to_string(), label)]),
            annotations: BTreeMap::from([(ANNOTATION.to_string(), note)]),
            ..Default::default()
        })
    }

    fn edit(&self, template: &mut serde_json::Value, planned: &ChangeRecord) -> anyhow::Result<()> {
        set_metadata(template, "labels", &planned.labels);
        set_metadata(template, "annotations", &planned.annotations);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{apply, touched};
    use super::*;

    #[test]
    fn only_metadata_changes_and_no_container_is_targeted() {
        let (edited, planned) = apply(&Metadata);
        assert_eq!(
            touched(&edited),
            vec![
                "/metadata/annotations".to_string(),
                format!("/metadata/labels/{LABEL}")
            ]
        );
        assert!(planned.containers.is_empty());
    }
}
