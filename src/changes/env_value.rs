//! A plain env value of one container: not an in-place change
//! (`defaultCalculateInPlaceUpdateSpec` accepts images and metadata only),
//! so InPlaceIfPossible recreates the pod and InPlaceOnly is refused.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Change, Plan, container_mut, token};
use crate::model::record::ChangeRecord;

#[derive(Debug)]
pub struct EnvValue {
    pub container: &'static str,
    pub name: &'static str,
}

#[async_trait::async_trait]
impl Change for EnvValue {
    fn kind(&self) -> &'static str {
        "env-value"
    }

    fn plan(&self, _plan: &Plan) -> anyhow::Result<ChangeRecord> {
        let value = token();
        Ok(ChangeRecord {
            kind: self.kind().into(),
            description: format!("env {}={value} in {}", self.name, self.container),
            containers: vec![self.container.to_string()],
            env: BTreeMap::from([(self.name.to_string(), value)]),
            ..Default::default()
        })
    }

    fn edit(&self, template: &mut Value, planned: &ChangeRecord) -> anyhow::Result<()> {
        let container = container_mut(template, self.container)?;
        let value = &planned.env[self.name];
        let env = container["env"]
            .as_array_mut()
            .and_then(|env| env.iter_mut().find(|e| e["name"] == self.name))
            .ok_or_else(|| {
                anyhow::anyhow!("container {} has no env {}", self.container, self.name)
            })?;
        env["value"] = json!(value);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{apply, touched};
    use super::*;

    #[test]
    fn changes_exactly_one_env_value() {
        let (edited, planned) = apply(&EnvValue {
            container: "app",
            name: "IPC_PLAIN",
        });
        assert_eq!(touched(&edited), vec!["/spec/containers/0/env/0/value"]);
        assert_eq!(planned.containers, vec!["app"]);
    }
}
