//! A new image for one or more containers: what `InPlaceIfPossible` can do
//! in place (`replace /spec/containers/<i>/image`).

use serde_json::json;

use super::{Change, Plan, container_mut};
use crate::model::record::ChangeRecord;

#[derive(Debug)]
pub struct Image {
    /// (container, content version).
    pub to: &'static [(&'static str, &'static str)],
}

#[async_trait::async_trait]
impl Change for Image {
    fn kind(&self) -> &'static str {
        "image"
    }

    fn images(&self) -> Vec<(&'static str, &'static str)> {
        self.to.to_vec()
    }

    fn plan(&self, plan: &Plan) -> anyhow::Result<ChangeRecord> {
        let mut record = ChangeRecord {
            kind: self.kind().into(),
            ..Default::default()
        };
        for (container, version) in self.to {
            let image = plan
                .images
                .get(*container)
                .ok_or_else(|| anyhow::anyhow!("no image delivered for {container}"))?;
            record.containers.push(container.to_string());
            record.images.insert(container.to_string(), image.clone());
            record.description.push_str(&format!(
                "{}image of {container} -> {version}",
                if record.description.is_empty() {
                    ""
                } else {
                    ", "
                }
            ));
        }
        Ok(record)
    }

    fn edit(&self, template: &mut serde_json::Value, planned: &ChangeRecord) -> anyhow::Result<()> {
        for (container, image) in &planned.images {
            container_mut(template, container)?["image"] = json!(image.reference);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{apply, touched};
    use super::*;

    #[test]
    fn only_the_named_images_change() {
        let (edited, planned) = apply(&Image {
            to: &[("side", "v2")],
        });
        assert_eq!(touched(&edited), vec!["/spec/containers/1/image"]);
        assert_eq!(planned.containers, vec!["side"]);
        assert_eq!(planned.description, "image of side -> v2");
    }
}
