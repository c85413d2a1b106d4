//! Several changes in one template edit (one revision), under a kind of
//! its own: the expectations of `image+env-from-metadata` differ from those
//! of its parts (one restart, not two).

use serde_json::Value;

use super::{Change, Plan};
use crate::model::record::ChangeRecord;

#[derive(Debug)]
pub struct Combined {
    pub kind: &'static str,
    pub parts: &'static [&'static dyn Change],
}

#[async_trait::async_trait]
impl Change for Combined {
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn needs_kruise_daemon(&self) -> bool {
        self.parts.iter().any(|p| p.needs_kruise_daemon())
    }

    fn images(&self) -> Vec<(&'static str, &'static str)> {
        self.parts.iter().flat_map(|p| p.images()).collect()
    }

    fn plan(&self, plan: &Plan) -> anyhow::Result<ChangeRecord> {
        let mut record = ChangeRecord {
            kind: self.kind.into(),
            ..Default::default()
        };
        let mut descriptions = Vec::new();
        for part in self.parts {
            let p = part.plan(plan)?;
            descriptions.push(p.description);
            for c in p.containers {
                if !record.containers.contains(&c) {
                    record.containers.push(c);
                }
            }
            record.images.extend(p.images);
            record.labels.extend(p.labels);
            record.annotations.extend(p.annotations);
            record.env.extend(p.env);
        }
        record.description = descriptions.join(" and ");
        Ok(record)
    }

    fn edit(&self, template: &mut Value, planned: &ChangeRecord) -> anyhow::Result<()> {
        for part in self.parts {
            part.edit(template, planned)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{apply, touched};
    use super::super::{EnvFromMetadata, Image};
    use super::*;

    #[test]
    fn both_parts_land_in_one_edit() {
        let (edited, planned) = apply(&Combined {
            kind: "image+env-from-metadata",
            parts: &[
                &Image {
                    to: &[("app", "v2")],
                },
                &EnvFromMetadata,
            ],
        });
        assert_eq!(
            touched(&edited),
            vec!["/metadata/annotations", "/spec/containers/0/image"]
        );
        assert_eq!(planned.containers, vec!["app"]);
        assert_eq!(planned.kind, "image+env-from-metadata");
        assert_eq!(planned.env.len(), 1);
    }
}
