//! A template annotation that a container's env reads through the downward
//! API (`fieldRef: metadata.annotations['...']`): kruise patches it onto the
//! pod and kruise-daemon recreates the containers that read it
//! (`InPlaceUpdateEnvFromMetadata`), so they see the new value.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Change, Plan, set_metadata, token};
use crate::model::record::ChangeRecord;

pub const ANNOTATION: &str = "inplace-conformance/env-value";

#[derive(Debug)]
pub struct EnvFromMetadata;

/// The (container, env var) pairs whose env reads `annotation`.
pub fn readers(template: &Value, annotation: &str) -> Vec<(String, String)> {
    let field_path = format!("metadata.annotations['{annotation}']");
    let mut out = Vec::new();
    for container in template["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
    {
        for env in container["env"].as_array().into_iter().flatten() {
            if env["valueFrom"]["fieldRef"]["fieldPath"] == field_path.as_str() {
                out.push((
                    container["name"].as_str().unwrap_or_default().to_string(),
                    env["name"].as_str().unwrap_or_default().to_string(),
                ));
            }
        }
    }
    out
}

#[async_trait::async_trait]
impl Change for EnvFromMetadata {
    fn kind(&self) -> &'static str {
        "env-from-metadata"
    }

    fn needs_kruise_daemon(&self) -> bool {
        true
    }

    fn plan(&self, plan: &Plan) -> anyhow::Result<ChangeRecord> {
        let readers = readers(plan.template, ANNOTATION);
        anyhow::ensure!(
            !readers.is_empty(),
            "no container env reads annotation {ANNOTATION}: the fixture cannot show env from metadata"
        );
        let value = token();
        let mut containers: Vec<String> = readers.iter().map(|(c, _)| c.clone()).collect();
        containers.dedup();
        Ok(ChangeRecord {
            kind: self.kind().into(),
            description: format!(
                "template annotation {ANNOTATION}={value}, read by {}",
                readers
                    .iter()
                    .map(|(c, v)| format!("{c}.{v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            containers,
            annotations: BTreeMap::from([(ANNOTATION.to_string(), value.clone())]),
            env: readers
                .into_iter()
                .map(|(_, var)| (var, value.clone()))
                .collect(),
            ..Default::default()
        })
    }

    fn edit(&self, template: &mut Value, planned: &ChangeRecord) -> anyhow::Result<()> {
        set_metadata(template, "annotations", &planned.annotations);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{apply, touched};
    use super::*;

    #[test]
    fn targets_the_containers_that_read_the_annotation() {
        let (edited, planned) = apply(&EnvFromMetadata);
        assert_eq!(touched(&edited), vec!["/metadata/annotations"]);
        assert_eq!(planned.containers, vec!["app"]);
        let value = &planned.annotations[ANNOTATION];
        assert_eq!(planned.env["IPC_FROM_ANNOTATION"], *value);
    }

    #[test]
    fn a_fixture_without_readers_is_refused() {
        let template = serde_json::json!({"spec": {"containers": [{"name": "app"}]}});
        let images = Default::default();
        let plan = Plan {
            template: &template,
            images: &images,
        };
        assert!(EnvFromMetadata.plan(&plan).is_err());
    }
}
