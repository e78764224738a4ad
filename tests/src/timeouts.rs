//! Each function's Lambda timeout, as `infra/template.yaml` declares it, so that the local API
//! tells a handler the deadline Lambda would: the template's `Globals.Function.Timeout`, or the
//! function's own `Timeout`.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Context, anyhow};
use serde_yaml_ng::Value;

use crate::workspace_root;

#[derive(Clone, Debug)]
pub struct FunctionTimeouts {
    default: Duration,
    /// By binary (function) name.
    own: HashMap<String, Duration>,
}

impl FunctionTimeouts {
    /// Read from `infra/template.yaml`.
    pub fn from_template() -> anyhow::Result<Self> {
        let path = workspace_root().join("infra/template.yaml");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let template: Value = serde_yaml_ng::from_str(&text).context("parsing the SAM template")?;
        Self::parse(&template)
    }

    fn parse(template: &Value) -> anyhow::Result<Self> {
        let seconds = |v: &Value| v.as_u64().map(Duration::from_secs);
        let default = seconds(&template["Globals"]["Function"]["Timeout"])
            .ok_or_else(|| anyhow!("the template has no Globals.Function.Timeout"))?;
        let mut own = HashMap::new();
        for resource in template["Resources"]
            .as_mapping()
            .into_iter()
            .flat_map(|m| m.values())
        {
            let binary = resource["Metadata"]["BuildProperties"]["Binary"].as_str();
            if let (Some(binary), Some(timeout)) =
                (binary, seconds(&resource["Properties"]["Timeout"]))
            {
                own.insert(binary.to_owned(), timeout);
            }
        }
        Ok(Self { default, own })
    }

    /// The same timeout for every function: a test's short deadline.
    pub fn all(timeout: Duration) -> Self {
        Self {
            default: timeout,
            own: HashMap::new(),
        }
    }

    pub fn of(&self, function: &str) -> Duration {
        self.own.get(function).copied().unwrap_or(self.default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_without_its_own_timeout_has_the_global_one() {
        let timeouts = FunctionTimeouts::from_template().unwrap();
        assert_eq!(timeouts.of("get-me"), Duration::from_secs(10));
        assert_eq!(timeouts.of("create-invitations"), Duration::from_secs(30));
        assert_eq!(
            FunctionTimeouts::all(Duration::from_secs(3)).of("create-invitations"),
            Duration::from_secs(3)
        );
    }
}
