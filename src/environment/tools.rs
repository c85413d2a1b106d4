//! The local programs a command runs, found before anything is created, so
//! that a missing one is a one-line cause with a hint rather than a failure
//! halfway through a cluster bring-up.

use std::path::{Path, PathBuf};

/// Where `tool` is on PATH, if anywhere.
pub fn on_path(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Every tool of `needed` (name, why, hint) is on PATH, or the first that
/// is not, named.
pub fn require(needed: &[(&str, &str, &str)]) -> anyhow::Result<()> {
    for (tool, why, hint) in needed {
        anyhow::ensure!(
            on_path(tool).is_some(),
            "required command '{tool}' not found on PATH ({why}); hint: {hint}"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_present_tool_is_found_and_an_absent_one_named() {
        assert!(on_path("sh").is_some());
        let err = require(&[
            ("sh", "x", "y"),
            ("no-such-tool-ipc", "to test", "install it"),
        ])
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "required command 'no-such-tool-ipc' not found on PATH (to test); hint: install it"
        );
    }
}
