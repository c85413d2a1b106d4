//! The one way to run a project script (`scripts/cluster`,
//! `scripts/bootstrap`): in a process group of its own that an
//! interruption stops (it may be creating a cluster), stdin closed, stdout
//! captured (its last line is the contract: `KUBECONFIG=`, `DOCKER_HOST=`),
//! stderr read line by line: the script's `error:` and `hint:` lines (`die`
//! in scripts/lib/common.sh) kept for the one-line error, the rest relayed
//! as progress events when asked, else kept for the error.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::environment::interrupt;
use crate::model::event;

/// What a script said of its failure (`die` in scripts/lib/common.sh).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScriptSaid {
    pub error: Option<String>,
    pub hint: Option<String>,
}

impl ScriptSaid {
    /// Takes the line if it is the script's `error:` or `hint:` line.
    pub fn take(&mut self, line: &str) -> bool {
        if let Some(cause) = line.strip_prefix("error: ") {
            self.error = Some(cause.to_string());
        } else if let Some(hint) = line.strip_prefix("hint: ") {
            self.hint = Some(hint.to_string());
        } else {
            return false;
        }
        true
    }
}

/// A script run that failed: the script's own cause and hint when it gave
/// them, else its exit status and last stderr lines.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error("{0} not found; hint: run from a checkout of the project")]
    Missing(PathBuf),
    #[error("cannot run {0}: {1}")]
    Spawn(String, std::io::Error),
    #[error("{}", describe_failure(.command, .status, .said, .tail))]
    Failed {
        command: String,
        status: std::process::ExitStatus,
        said: ScriptSaid,
        tail: Vec<String>,
    },
}

fn describe_failure(
    command: &str,
    status: &std::process::ExitStatus,
    said: &ScriptSaid,
    tail: &[String],
) -> String {
    match &said.error {
        Some(cause) => match &said.hint {
            Some(hint) => format!("{cause}; hint: {hint}"),
            None => cause.clone(),
        },
        None => {
            let how = match status.signal() {
                Some(signal) => format!("killed by signal {signal}"),
                None => format!("exit {}", status.code().unwrap_or(-1)),
            };
            let last = tail.last().map(|l| format!(": {l}")).unwrap_or_default();
            format!("`{command}` failed ({how}){last}")
        }
    }
}

/// What a successful run printed.
#[derive(Debug, Default)]
pub struct Ran {
    pub stdout: String,
}

pub struct Script {
    program: PathBuf,
    label: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
    env_remove: Vec<String>,
    relay: Option<String>,
    relay_stdout: bool,
}

impl Script {
    /// `scripts/NAME` of the checkout at `repo_root`.
    pub fn project(repo_root: &Path, name: &str) -> Script {
        Script {
            program: repo_root.join("scripts").join(name),
            label: format!("scripts/{name}"),
            args: Vec::new(),
            env: Vec::new(),
            env_remove: Vec::new(),
            relay: None,
            relay_stdout: false,
        }
    }

    pub fn cluster(repo_root: &Path) -> Script {
        Script::project(repo_root, "cluster")
    }

    pub fn args<S: AsRef<str>>(mut self, args: &[S]) -> Script {
        self.args
            .extend(args.iter().map(|a| a.as_ref().to_string()));
        self
    }

    pub fn env(mut self, vars: &[(String, String)]) -> Script {
        self.env.extend(vars.iter().cloned());
        self
    }

    pub fn env_remove(mut self, names: &[&str]) -> Script {
        self.env_remove.extend(names.iter().map(|n| n.to_string()));
        self
    }

    /// Relays its stderr (progress) as notes about `scope`.
    pub fn relay(mut self, scope: &str) -> Script {
        self.relay = Some(scope.to_string());
        self
    }

    /// Relays its stdout too (bootstrap prints progress there), the
    /// contract's `KEY=value` lines excepted.
    pub fn relay_stdout(mut self) -> Script {
        self.relay_stdout = true;
        self
    }

    fn command_line(&self) -> String {
        std::iter::once(self.label.clone())
            .chain(self.args.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Runs it to the end.
    pub async fn run(self) -> Result<Ran, ScriptError> {
        if !self.program.is_file() {
            return Err(ScriptError::Missing(self.program));
        }
        let command_line = self.command_line();
        let mut command = tokio::process::Command::new(&self.program);
        command
            .args(&self.args)
            .current_dir(
                self.program
                    .parent()
                    .and_then(Path::parent)
                    .unwrap_or(Path::new(".")),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, stopped by the interruption handler.
            .process_group(0);
        for name in &self.env_remove {
            command.env_remove(name);
        }
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        let mut child = command
            .spawn()
            .map_err(|e| ScriptError::Spawn(command_line.clone(), e))?;
        let pid = child.id().unwrap_or_default();
        interrupt::track_child(pid);
        let stderr = child.stderr.take();
        let relay = self.relay.clone();
        let reading = async move {
            let mut said = ScriptSaid::default();
            let mut tail: Vec<String> = Vec::new();
            if let Some(stderr) = stderr {
                let mut lines = BufReader::new(stderr).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    if said.take(&line) {
                        continue;
                    }
                    match &relay {
                        Some(scope) => event::note(scope, line),
                        None => {
                            tail.push(line);
                            if tail.len() > 20 {
                                tail.remove(0);
                            }
                        }
                    }
                }
            }
            (said, tail)
        };
        let (output, (said, tail)) = tokio::join!(child.wait_with_output(), reading);
        interrupt::untrack_child(pid);
        let output = output.map_err(|e| ScriptError::Spawn(command_line.clone(), e))?;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        if let (true, Some(scope)) = (self.relay_stdout, &self.relay) {
            for line in stdout.lines().filter(|l| !is_contract_line(l)) {
                event::note(scope, line);
            }
        }
        if !output.status.success() {
            return Err(ScriptError::Failed {
                command: command_line,
                status: output.status,
                said,
                tail,
            });
        }
        Ok(Ran { stdout })
    }
}

/// `KUBECONFIG=/path`, `DOCKER_HOST=...`: what a caller parses.
fn is_contract_line(line: &str) -> bool {
    line.split_once('=').is_some_and(|(key, _)| {
        !key.is_empty() && key.chars().all(|c| c.is_ascii_uppercase() || c == '_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The script is written by a `cp` child, never opened for writing in
    /// this process: a test thread forking meanwhile would inherit the
    /// write descriptor until its exec, and running the script then fails
    /// with "Text file busy" (seen once in twenty runs).
    fn scratch_script(body: &str) -> (PathBuf, PathBuf) {
        let root = std::env::temp_dir().join(format!("ipc-script-{}", crate::short_id()));
        std::fs::create_dir_all(root.join("scripts")).unwrap();
        let path = root.join("scripts/try");
        let source = root.join("try.txt");
        std::fs::write(&source, format!("#!/usr/bin/env bash\n{body}\n")).unwrap();
        let copied = std::process::Command::new("cp")
            .arg(&source)
            .arg(&path)
            .status()
            .unwrap();
        assert!(copied.success());
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        (root, path)
    }

    #[tokio::test]
    async fn stdout_is_returned_and_a_die_becomes_one_line() {
        let (root, _) = scratch_script(
            "echo progress >&2; echo KUBECONFIG=/x\n[[ ${1:-} == fail ]] || exit 0\n\
             echo 'error: no cluster' >&2; echo 'hint: create one' >&2; exit 3",
        );
        let ran = Script::project(&root, "try").run().await.unwrap();
        assert_eq!(ran.stdout.trim(), "KUBECONFIG=/x");
        let err = Script::project(&root, "try")
            .args(&["fail"])
            .run()
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "no cluster; hint: create one");
        std::fs::remove_dir_all(root).unwrap();
    }

    #[tokio::test]
    async fn without_a_die_the_last_stderr_line_says_why() {
        let (root, _) = scratch_script("echo one >&2; echo 'it broke' >&2; exit 2");
        let err = Script::project(&root, "try").run().await.unwrap_err();
        assert_eq!(err.to_string(), "`scripts/try` failed (exit 2): it broke");
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_script_error_and_hint_are_taken_other_lines_passed_on() {
        let mut said = ScriptSaid::default();
        assert!(!said.take("creating kind cluster 'x'"));
        assert!(said.take("error: required command 'podman' not found"));
        assert!(said.take("hint: scripts/bootstrap installs it"));
        assert_eq!(
            said.error.as_deref(),
            Some("required command 'podman' not found")
        );
        assert_eq!(said.hint.as_deref(), Some("scripts/bootstrap installs it"));
    }

    #[test]
    fn contract_lines_are_key_value() {
        assert!(is_contract_line("KUBECONFIG=/a/b"));
        assert!(!is_contract_line("[1/12] host: done"));
    }
}
