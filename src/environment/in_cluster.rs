//! `run --in-cluster`: the suite in a pod of the cluster under test, acting
//! as the pod's ServiceAccount. kube's in-cluster config (the API server's
//! Service address from the pod's environment, the mounted token and CA)
//! is written down once as a kubeconfig that names the token and CA files
//! (`tokenFile`, so the rotated token is re-read, as kube's in-cluster
//! config does): every part of a run that reaches the cluster (the guard's
//! cleanup on another runtime, the secrets scan) takes a kubeconfig path.

use std::path::{Path, PathBuf};

use anyhow::Context;

const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// Writes `<dir>/inplace-conformance-<pid>.kubeconfig` (it holds no
/// secret, only the files' paths) from kube's in-cluster config; fails in
/// one line outside a pod.
pub fn kubeconfig(dir: &Path) -> anyhow::Result<PathBuf> {
    let config = kube::Config::incluster().map_err(|err| {
        anyhow::anyhow!(
            "--in-cluster: no in-cluster config here ({err}); hint: run it in a pod with a \
             ServiceAccount token mounted (deploy/job.yaml), or give --kubeconfig FILE"
        )
    })?;
    let account = Path::new(SERVICE_ACCOUNT_DIR);
    let namespace = std::fs::read_to_string(account.join("namespace"))
        .map(|n| n.trim().to_string())
        .unwrap_or_else(|_| "default".into());
    let text = render(
        &config.cluster_url.to_string(),
        &account.join("ca.crt"),
        &account.join("token"),
        &namespace,
    );
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(format!(
        "inplace-conformance-{}.kubeconfig",
        std::process::id()
    ));
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// A kubeconfig naming the files, never their content.
pub fn render(server: &str, ca: &Path, token: &Path, namespace: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\n\
         clusters:\n- name: in-cluster\n  cluster:\n    server: {server}\n    \
         certificate-authority: {ca}\n\
         users:\n- name: service-account\n  user:\n    tokenFile: {token}\n\
         contexts:\n- name: in-cluster\n  context:\n    cluster: in-cluster\n    \
         user: service-account\n    namespace: {namespace}\n\
         current-context: in-cluster\n",
        server = server.trim_end_matches('/'),
        ca = ca.display(),
        token = token.display(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_written_kubeconfig_names_the_accounts_files_and_parses() {
        let text = render(
            "https://10.96.0.1:443/",
            Path::new("/sa/ca.crt"),
            Path::new("/sa/token"),
            "inplace-conformance",
        );
        let parsed = kube::config::Kubeconfig::from_yaml(&text).unwrap();
        assert_eq!(parsed.current_context.as_deref(), Some("in-cluster"));
        let user = parsed.auth_infos[0].auth_info.as_ref().unwrap();
        assert_eq!(user.token_file.as_deref(), Some("/sa/token"));
        let cluster = parsed.clusters[0].cluster.as_ref().unwrap();
        assert_eq!(cluster.server.as_deref(), Some("https://10.96.0.1:443"));
        assert_eq!(cluster.certificate_authority.as_deref(), Some("/sa/ca.crt"));
    }

    #[test]
    fn outside_a_pod_it_says_so_in_one_line() {
        // The unit tests run on a build machine, never in a pod.
        let err = kubeconfig(&std::env::temp_dir()).unwrap_err().to_string();
        assert!(err.starts_with("--in-cluster: "), "{err}");
        assert!(err.contains("hint: "), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }
}
