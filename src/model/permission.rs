//! One permission, as `kubectl auth can-i` asks it: what a scenario's
//! change or fault needs from the identity that runs it (asked of the API
//! server by `run::access::can`).

/// One permission, as `kubectl auth can-i VERB RESOURCE -n NAMESPACE` asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permission {
    pub verb: &'static str,
    pub group: &'static str,
    pub resource: &'static str,
    pub subresource: &'static str,
    /// Empty: every namespace (or a cluster-scoped resource).
    pub namespace: String,
    pub name: &'static str,
}

impl Permission {
    pub fn new(verb: &'static str, resource: &'static str, namespace: &str) -> Permission {
        let (group, resource) = match resource.split_once('.') {
            Some((resource, group)) => (group, resource),
            None => ("", resource),
        };
        let (resource, subresource) = resource.split_once('/').unwrap_or((resource, ""));
        Permission {
            verb,
            group,
            resource,
            subresource,
            namespace: namespace.to_string(),
            name: "",
        }
    }

    pub fn named(mut self, name: &'static str) -> Permission {
        self.name = name;
        self
    }

    pub fn describe(&self) -> String {
        let mut resource = self.resource.to_string();
        if !self.subresource.is_empty() {
            resource = format!("{resource}/{}", self.subresource);
        }
        if !self.group.is_empty() {
            resource = format!("{resource}.{}", self.group);
        }
        if !self.name.is_empty() {
            resource = format!("{resource}/{}", self.name);
        }
        match self.namespace.as_str() {
            "" => format!("{} {resource}", self.verb),
            ns => format!("{} {resource} -n {ns}", self.verb),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_permission_reads_like_kubectl_auth_can_i() {
        assert_eq!(
            Permission::new("create", "pods/exec", "kube-system").describe(),
            "create pods/exec -n kube-system"
        );
        let bind = Permission::new("bind", "clusterroles.rbac.authorization.k8s.io", "")
            .named("inplace-conformance-namespace");
        assert_eq!(bind.group, "rbac.authorization.k8s.io");
        assert_eq!(bind.resource, "clusterroles");
        assert_eq!(
            bind.describe(),
            "bind clusterroles.rbac.authorization.k8s.io/inplace-conformance-namespace"
        );
    }
}
