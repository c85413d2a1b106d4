//! Who the run is and where it may write (README, "Least privilege").
//!
//! An identity with cluster-wide grants (a kind cluster's admin) writes
//! where it likes. The suite's own account (`rbac/inplace-conformance.yaml`)
//! may write only inside namespaces a run created: the run binds the
//! ClusterRole `inplace-conformance-namespace` in each namespace it has just
//! made, and waits until the API server grants it. The account's
//! cluster-wide writes (namespaces, RoleBindings, SidecarSets) are held to
//! the suite's own objects by the ValidatingAdmissionPolicy of the same
//! name; without it those writes would reach every namespace, so the run
//! refuses to start rather than go on unguarded.

use std::time::Duration;

use anyhow::Context;
use k8s_openapi::api::admissionregistration::v1::{
    ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
};
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::rbac::v1::{RoleBinding, RoleRef, Subject};
use kube::Client;
use kube::api::{Api, ObjectMeta, PostParams};

pub use crate::model::permission::Permission;

/// The ClusterRole a run binds in each namespace it creates.
pub const NAMESPACE_ROLE: &str = "inplace-conformance-namespace";
/// The ValidatingAdmissionPolicy (and its binding) that guards the account.
pub const POLICY: &str = "inplace-conformance";
const HINT: &str = "hint: `kubectl apply -f rbac/inplace-conformance.yaml` as a cluster admin \
                    (on kind: scripts/cluster sa-kubeconfig --name NAME)";

/// Whether the caller holds `permission` (a SelfSubjectAccessReview, which
/// any authenticated identity may ask).
pub async fn can(client: &Client, permission: &Permission) -> anyhow::Result<bool> {
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some(permission.verb.into()),
                group: Some(permission.group.into()),
                resource: Some(permission.resource.into()),
                subresource: Some(permission.subresource.into()).filter(|s: &String| !s.is_empty()),
                namespace: Some(permission.namespace.clone()).filter(|s| !s.is_empty()),
                name: Some(permission.name.into()).filter(|s: &String| !s.is_empty()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let answer = api
        .create(&PostParams::default(), &review)
        .await
        .with_context(|| {
            format!(
                "asking the API server whether we may {}",
                permission.describe()
            )
        })?;
    Ok(answer.status.is_some_and(|s| s.allowed))
}

/// The caller's username and groups, as the API server sees them.
pub async fn whoami(client: &Client) -> anyhow::Result<(String, Vec<String>)> {
    let api: Api<SelfSubjectReview> = Api::all(client.clone());
    let review = api
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await
        .context("asking the API server who we are (SelfSubjectReview)")?;
    let user = review.status.and_then(|s| s.user_info).unwrap_or_default();
    Ok((
        user.username.unwrap_or_default(),
        user.groups.unwrap_or_default(),
    ))
}

/// How the run's writes are granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grants {
    /// The identity may write in every namespace (a cluster admin).
    ClusterWide,
    /// Only in the namespaces the run creates, through a RoleBinding of
    /// [`NAMESPACE_ROLE`] in each, under the guard of [`POLICY`].
    PerNamespace,
}

#[derive(Debug, Clone)]
pub struct Access {
    pub user: String,
    pub grants: Grants,
}

impl Access {
    /// One line for the record and the report.
    pub fn describe(&self) -> String {
        match self.grants {
            Grants::ClusterWide => format!("{} (cluster-wide grants)", self.user),
            Grants::PerNamespace => format!(
                "{} (writes only in the run's namespaces: RoleBinding of {NAMESPACE_ROLE}, \
                 ValidatingAdmissionPolicy {POLICY})",
                self.user
            ),
        }
    }

    /// Lets the run write in `namespace`, which it has just created.
    pub async fn admit(&self, client: &Client, namespace: &str) -> anyhow::Result<()> {
        if self.grants == Grants::ClusterWide {
            return Ok(());
        }
        bind_namespace_role(client, namespace, &self.user).await?;
        wait_granted(client, namespace).await
    }
}

/// [`Access::describe`] of the caller, or why it is unknown (for the
/// record: never fails).
pub async fn identity(client: &Client) -> String {
    let user = match whoami(client).await {
        Ok((user, _)) => user,
        Err(err) => return format!("unknown ({err:#})"),
    };
    let grants = match can(client, &Permission::new("create", "pods", "")).await {
        Ok(true) => Grants::ClusterWide,
        Ok(false) => Grants::PerNamespace,
        Err(err) => return format!("{user} (grants unknown: {err:#})"),
    };
    Access { user, grants }.describe()
}

/// Who the caller is and how it may write; refuses (before anything is
/// created) an identity that could write nowhere, or the suite's account
/// without its guard.
pub async fn resolve(client: &Client) -> anyhow::Result<Access> {
    let (user, _) = whoami(client).await?;
    if can(client, &Permission::new("create", "pods", "")).await? {
        return Ok(Access {
            user,
            grants: Grants::ClusterWide,
        });
    }
    let kruise = crate::observe::kruise::SYSTEM_NAMESPACE;
    let needed = [
        Permission::new("create", "namespaces", ""),
        Permission::new("create", "rolebindings.rbac.authorization.k8s.io", ""),
        Permission::new("bind", "clusterroles.rbac.authorization.k8s.io", "").named(NAMESPACE_ROLE),
        // OpenKruise's readiness and version are read before anything.
        Permission::new("get", "deployments.apps", kruise),
        Permission::new("list", "pods", kruise),
    ];
    for permission in &needed {
        if !can(client, permission).await? {
            anyhow::bail!(
                "{user} may not {}, which a run needs to make its namespaces and write in them; {HINT}",
                permission.describe()
            );
        }
    }
    guard_in_place(client, &user).await?;
    Ok(Access {
        user,
        grants: Grants::PerNamespace,
    })
}

/// The policy and its binding exist; on an API server without
/// ValidatingAdmissionPolicy (older than v1.30) the run refuses, naming
/// what would stay unprotected.
async fn guard_in_place(client: &Client, user: &str) -> anyhow::Result<()> {
    let unguarded = "without it the account's grants to create RoleBindings and namespaces and \
                     to bind its namespace role reach every namespace, kube-system included";
    let served = client
        .list_api_group_resources("admissionregistration.k8s.io/v1")
        .await
        .map(|list| {
            list.resources
                .iter()
                .any(|r| r.name == "validatingadmissionpolicies")
        })
        .unwrap_or(false);
    if !served {
        anyhow::bail!(
            "this API server has no ValidatingAdmissionPolicy (GA in Kubernetes v1.30), which guards \
             {user}: {unguarded}; hint: run with a cluster-admin kubeconfig on a throwaway \
             cluster, or upgrade the cluster"
        );
    }
    let policies: Api<ValidatingAdmissionPolicy> = Api::all(client.clone());
    let bindings: Api<ValidatingAdmissionPolicyBinding> = Api::all(client.clone());
    let missing = |what: &str, err: kube::Error| {
        let state = match &err {
            kube::Error::Api(status) if status.code == 404 => {
                "is missing (rbac/inplace-conformance.yaml not applied, or applied in part)"
                    .to_string()
            }
            other => format!(
                "is not readable ({})",
                crate::observe::kruise::api_error_text(other)
            ),
        };
        anyhow::anyhow!("{what} {POLICY} {state}, so nothing guards {user}: {unguarded}; {HINT}")
    };
    policies
        .get(POLICY)
        .await
        .map_err(|e| missing("ValidatingAdmissionPolicy", e))?;
    bindings
        .get(POLICY)
        .await
        .map_err(|e| missing("ValidatingAdmissionPolicyBinding", e))?;
    wait_policy_denies(client, user).await
}

/// A policy takes effect a moment after it is applied (a Job applied with
/// it starts at once): waited for until it refuses a namespace without the
/// suite's labels, a server-side dry run that makes nothing.
async fn wait_policy_denies(client: &Client, user: &str) -> anyhow::Result<()> {
    const DEADLINE: Duration = Duration::from_secs(60);
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    let probe = k8s_openapi::api::core::v1::Namespace {
        metadata: ObjectMeta {
            name: Some("ipc-policy-probe".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    let dry_run = PostParams {
        dry_run: true,
        ..Default::default()
    };
    let started = std::time::Instant::now();
    loop {
        let answer = match namespaces.create(&dry_run, &probe).await {
            Ok(_) => "admitted".to_string(),
            Err(err) => crate::observe::kruise::api_error_text(&err),
        };
        if answer.contains(&format!("ValidatingAdmissionPolicy '{POLICY}'")) {
            return Ok(());
        }
        if started.elapsed() > DEADLINE {
            anyhow::bail!(
                "the policy {POLICY} does not hold {user} yet after {} s (a namespace without the \
                 suite's labels was {answer}); {HINT}",
                DEADLINE.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The fixtures dry-run (strict) before any scenario starts, where the
/// identity may write: `default` for a cluster-wide identity; for the
/// account, which may write nowhere yet, a namespace of its own made for
/// the check and deleted after it (a dry run in `default` would be refused
/// for the account's rights, not for the fixture, and prove nothing).
pub async fn dry_run_fixtures(
    client: &Client,
    access: &Access,
    run_id: &str,
    fixtures: &[&crate::workloads::Fixture],
) -> anyhow::Result<()> {
    if access.grants == Grants::ClusterWide {
        for fixture in fixtures {
            crate::workloads::dry_run_fixture(client, fixture, "default").await?;
        }
        return Ok(());
    }
    let namespace = format!("ipc-fixture-check-{}", crate::short_id());
    crate::run::guard::create_namespace(client, &namespace, "fixture-check", run_id).await?;
    let checked = async {
        access.admit(client, &namespace).await?;
        for fixture in fixtures {
            crate::workloads::dry_run_fixture(client, fixture, &namespace).await?;
        }
        anyhow::Ok(())
    }
    .await;
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    if let Err(err) = namespaces
        .delete(&namespace, &kube::api::DeleteParams::default())
        .await
    {
        crate::model::event::warn(
            "fixture-check",
            format!(
                "deleting namespace {namespace}: {}",
                crate::observe::kruise::api_error_text(&err)
            ),
        );
    }
    checked
}

/// The subject the API server matches `user` with: a ServiceAccount by its
/// namespace and name, anyone else by username.
fn subject(user: &str) -> Subject {
    match user
        .strip_prefix("system:serviceaccount:")
        .and_then(|rest| rest.split_once(':'))
    {
        Some((namespace, name)) => Subject {
            kind: "ServiceAccount".into(),
            name: name.into(),
            namespace: Some(namespace.into()),
            ..Default::default()
        },
        None => Subject {
            kind: "User".into(),
            name: user.into(),
            api_group: Some("rbac.authorization.k8s.io".into()),
            ..Default::default()
        },
    }
}

async fn bind_namespace_role(client: &Client, namespace: &str, user: &str) -> anyhow::Result<()> {
    let binding = RoleBinding {
        metadata: ObjectMeta {
            name: Some(NAMESPACE_ROLE.into()),
            namespace: Some(namespace.into()),
            ..Default::default()
        },
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "ClusterRole".into(),
            name: NAMESPACE_ROLE.into(),
        },
        subjects: Some(vec![subject(user)]),
    };
    let api: Api<RoleBinding> = Api::namespaced(client.clone(), namespace);
    api.create(&PostParams::default(), &binding)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "binding {NAMESPACE_ROLE} in {namespace}: {}",
                crate::observe::kruise::api_error_text(&e)
            )
        })?;
    Ok(())
}

/// RBAC grants from a fresh RoleBinding once the API server's authorizer
/// has seen it (milliseconds, usually): waited for, not assumed.
async fn wait_granted(client: &Client, namespace: &str) -> anyhow::Result<()> {
    const DEADLINE: Duration = Duration::from_secs(30);
    let permission = Permission::new("create", "pods", namespace);
    let started = std::time::Instant::now();
    loop {
        if can(client, &permission).await? {
            return Ok(());
        }
        if started.elapsed() > DEADLINE {
            anyhow::bail!(
                "the RoleBinding {NAMESPACE_ROLE} in {namespace} did not grant `{}` within {}s; \
                 hint: `kubectl -n {namespace} describe rolebinding {NAMESPACE_ROLE}`",
                permission.describe(),
                DEADLINE.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names the code relies on are the ones the manifest declares:
    /// a rename on one side alone would refuse every run as the account.
    #[test]
    fn the_manifest_declares_what_the_code_names() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/rbac/inplace-conformance.yaml");
        let text = std::fs::read_to_string(path).unwrap();
        let docs: Vec<serde_json::Value> = serde_yaml::Deserializer::from_str(&text)
            .map(|d| serde::Deserialize::deserialize(d).unwrap())
            .collect();
        let named = |kind: &str, name: &str| {
            docs.iter()
                .any(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        };
        assert!(named("ClusterRole", NAMESPACE_ROLE));
        assert!(named("ValidatingAdmissionPolicy", POLICY));
        assert!(named("ValidatingAdmissionPolicyBinding", POLICY));
        for label in [
            crate::workloads::NAMESPACE_LABEL,
            crate::environment::interrupt::RUN_LABEL,
        ] {
            assert!(text.contains(&format!("'{label}'")), "{label}");
        }
        assert!(text.contains(&format!(
            "'pod-security.kubernetes.io/enforce'].orValue('') == '{}'",
            crate::run::pod_security::LEVEL
        )));
    }

    #[test]
    fn a_service_account_is_bound_as_one_and_anyone_else_by_name() {
        let sa = subject("system:serviceaccount:inplace-conformance:inplace-conformance");
        assert_eq!(sa.kind, "ServiceAccount");
        assert_eq!(sa.namespace.as_deref(), Some("inplace-conformance"));
        assert_eq!(sa.name, "inplace-conformance");
        let user = subject("alice@example.org");
        assert_eq!(
            (user.kind.as_str(), user.name.as_str()),
            ("User", "alice@example.org")
        );
    }
}
