//! Proof that a run wrote no credential: every file of a run folder (logs,
//! reports, observations, diagnostics) is searched for the secrets of the
//! kubeconfig the run used (tokens, client keys and certificates,
//! passwords, the cluster CA), raw and, for the `*-data` fields, as the PEM
//! text they decode to. Findings name the file and the field, never the
//! secret.

use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine;
use serde_yaml::Value;

/// One secret of a kubeconfig: what it is and the strings that betray it.
#[derive(Debug, Clone, PartialEq)]
pub struct Secret {
    pub what: String,
    pub needles: Vec<String>,
}

/// A secret found in a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Leak {
    pub file: PathBuf,
    pub what: String,
}

/// Shorter strings would match by chance; every real credential is longer.
const MIN_NEEDLE: usize = 16;

/// The secrets a kubeconfig holds.
pub fn kubeconfig_secrets(kubeconfig: &Path) -> anyhow::Result<Vec<Secret>> {
    let text = std::fs::read_to_string(kubeconfig)
        .with_context(|| format!("reading {}", kubeconfig.display()))?;
    let doc: Value = serde_yaml::from_str(&text)
        .with_context(|| format!("{} is not YAML", kubeconfig.display()))?;
    let mut secrets = Vec::new();
    for (list, inner, fields) in [
        (
            "users",
            "user",
            &[
                "token",
                "password",
                "client-key-data",
                "client-certificate-data",
            ][..],
        ),
        ("clusters", "cluster", &["certificate-authority-data"][..]),
    ] {
        for entry in doc[list].as_sequence().into_iter().flatten() {
            let name = entry["name"].as_str().unwrap_or("?");
            for field in fields {
                if let Some(value) = entry[inner][*field].as_str() {
                    secrets.push(Secret {
                        what: format!("{list}[{name}].{field}"),
                        needles: needles(field, value),
                    });
                }
            }
        }
    }
    secrets.extend(file_secrets(&doc));
    secrets.retain(|s| !s.needles.is_empty());
    Ok(secrets)
}

/// Secrets a kubeconfig names by file (`tokenFile`, `certificate-authority`,
/// as `run --in-cluster` writes for the pod's ServiceAccount): the files'
/// content is what must not leak.
fn file_secrets(doc: &Value) -> Vec<Secret> {
    let mut found = Vec::new();
    for (list, inner, field, data_field) in [
        ("users", "user", "tokenFile", "token"),
        ("users", "user", "client-key", "client-key-data"),
        (
            "clusters",
            "cluster",
            "certificate-authority",
            "certificate-authority-data",
        ),
    ] {
        for entry in doc[list].as_sequence().into_iter().flatten() {
            let name = entry["name"].as_str().unwrap_or("?");
            let Some(path) = entry[inner][field].as_str() else {
                continue;
            };
            let Ok(content) = std::fs::read_to_string(path) else {
                continue;
            };
            let content = content.trim();
            // A PEM file's body lines, as `*-data` fields give them.
            let value = if data_field.ends_with("-data") {
                base64::engine::general_purpose::STANDARD.encode(content)
            } else {
                content.to_string()
            };
            found.push(Secret {
                what: format!("{list}[{name}].{field}"),
                needles: needles(data_field, &value),
            });
        }
    }
    found
}

/// The raw value, and for base64 `*-data` the body lines of the PEM inside.
fn needles(field: &str, value: &str) -> Vec<String> {
    let mut found = vec![value.to_string()];
    if field.ends_with("-data")
        && let Ok(pem) = base64::engine::general_purpose::STANDARD.decode(value.trim())
    {
        found.extend(
            String::from_utf8_lossy(&pem)
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .map(str::to_string),
        );
    }
    found.retain(|n| n.len() >= MIN_NEEDLE);
    found
}

/// Every file under `roots` that holds one of `secrets`.
pub fn scan(roots: &[PathBuf], secrets: &[Secret]) -> anyhow::Result<(usize, Vec<Leak>)> {
    let mut files = Vec::new();
    for root in roots {
        collect_files(root, &mut files)?;
    }
    let mut leaks = Vec::new();
    for file in &files {
        let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        let text = String::from_utf8_lossy(&bytes);
        for secret in secrets {
            if secret.needles.iter().any(|n| text.contains(n.as_str())) {
                leaks.push(Leak {
                    file: file.clone(),
                    what: secret.what.clone(),
                });
            }
        }
    }
    Ok((files.len(), leaks))
}

fn collect_files(path: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let meta =
        std::fs::symlink_metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if meta.is_dir() {
        for entry in std::fs::read_dir(path)? {
            collect_files(&entry?.path(), out)?;
        }
    } else if meta.is_file() {
        out.push(path.to_path_buf());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_PEM: &str = "-----BEGIN EC PRIVATE KEY-----\n\
        MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5zq0nQwFzx2JEoAoGCCqGSM49\n\
        -----END EC PRIVATE KEY-----\n";

    fn kubeconfig(dir: &Path) -> PathBuf {
        let key = base64::engine::general_purpose::STANDARD.encode(KEY_PEM);
        let path = dir.join("kubeconfig");
        std::fs::write(
            &path,
            format!(
                "apiVersion: v1\nkind: Config\nclusters: [{{name: c, cluster: {{server: 'https://x'}}}}]\n\
                 users:\n- name: sa\n  user: {{token: eyJhbGciOiJSUzI1NiIsImtpZCI6IjEyMyJ9.payload}}\n\
                 - name: admin\n  user: {{client-key-data: {key}}}\n"
            ),
        )
        .unwrap();
        path
    }

    fn scratch() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ipc-secrets-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("run/diagnostics/x")).unwrap();
        dir
    }

    #[test]
    fn a_clean_run_folder_has_no_leak() {
        let dir = scratch();
        let secrets = kubeconfig_secrets(&kubeconfig(&dir)).unwrap();
        assert_eq!(secrets.len(), 2);
        std::fs::write(dir.join("run/report.md"), "all PASS, server https://x").unwrap();
        let (files, leaks) = scan(&[dir.join("run")], &secrets).unwrap();
        assert_eq!((files, leaks.len()), (1, 0));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_token_or_a_decoded_key_line_is_found_and_named() {
        let dir = scratch();
        let secrets = kubeconfig_secrets(&kubeconfig(&dir)).unwrap();
        let logs = dir.join("run/diagnostics/x/log.txt");
        std::fs::write(
            &logs,
            "Authorization: Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6IjEyMyJ9.payload",
        )
        .unwrap();
        std::fs::write(
            dir.join("run/key.txt"),
            "dumped MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5zq0nQwFzx2JEoAoGCCqGSM49",
        )
        .unwrap();
        let (files, mut leaks) = scan(&[dir.join("run")], &secrets).unwrap();
        leaks.sort_by(|a, b| a.what.cmp(&b.what));
        assert_eq!(files, 2);
        assert_eq!(leaks[0].what, "users[admin].client-key-data");
        assert_eq!(leaks[1].what, "users[sa].token");
        assert_eq!(leaks[1].file, logs);
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// `run --in-cluster` names the ServiceAccount's token by file: the
    /// file's content is searched for.
    #[test]
    fn a_token_named_by_file_is_searched_for() {
        let dir = scratch();
        let token = dir.join("token");
        std::fs::write(&token, "eyJhbGciOiJSUzI1NiJ9.in-cluster-token\n").unwrap();
        let kubeconfig = dir.join("in-cluster.kubeconfig");
        std::fs::write(
            &kubeconfig,
            crate::environment::in_cluster::render(
                "https://10.96.0.1:443",
                &dir.join("absent-ca.crt"),
                &token,
                "ns",
            ),
        )
        .unwrap();
        let secrets = kubeconfig_secrets(&kubeconfig).unwrap();
        assert_eq!(secrets.len(), 1, "{secrets:?}");
        std::fs::write(
            dir.join("run/report.md"),
            "Bearer eyJhbGciOiJSUzI1NiJ9.in-cluster-token",
        )
        .unwrap();
        let (_, leaks) = scan(&[dir.join("run")], &secrets).unwrap();
        assert_eq!(leaks.len(), 1);
        assert_eq!(leaks[0].what, "users[service-account].tokenFile");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
