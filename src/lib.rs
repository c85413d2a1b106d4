//! End-to-end conformance suite: what survives an OpenKruise in-place update.
//!
//! One route through the harness, in layers (each imports only the ones
//! above it in this list; `layers_never_import_upward` enforces it):
//! `model` (what a run writes), `environment` (where it runs), `observe`
//! (reading a live cluster), `workloads`, `changes` and `faults` (what is
//! deployed, changed and broken), `scenarios` (what to run and what must
//! hold), `judge` (pure functions of records), `report` (rendering), `run`
//! (running scenarios, the CLI's commands).

pub mod changes;
pub mod environment;
pub mod faults;
pub mod judge;
pub mod model;
pub mod observe;
pub mod report;
pub mod run;
pub mod scenarios;
pub mod workloads;

/// A short random suffix for names (namespaces, registry repositories).
pub fn short_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_string()
}

/// Current time as RFC 3339, the format every timestamp in the records uses.
pub fn now_rfc3339() -> String {
    k8s_openapi::jiff::Timestamp::now().to_string()
}

/// An RFC 3339 stamp as a time, to compare, sort or pick the latest by:
/// text order is not time order once offsets or fraction lengths differ
/// (`...00.5Z` sorts before `...00Z`). An empty or unparsable stamp is
/// `None`, which sorts before every time.
pub fn time_key(stamp: &str) -> Option<k8s_openapi::jiff::Timestamp> {
    stamp.parse().ok()
}

/// The (major, minor) of a Kubernetes git version (`v1.34.4`,
/// `v1.35.0-rc.1+k3s1`); `None` when it cannot be read. Callers decide
/// what an unreadable version means to them.
pub fn kubernetes_minor(git_version: &str) -> Option<(u32, u32)> {
    let mut parts = git_version
        .trim_start_matches('v')
        .split(['.', '-', '+'])
        .map(|p| p.parse::<u32>().ok());
    Some((parts.next().flatten()?, parts.next().flatten()?))
}

#[cfg(test)]
mod tests {
    #[test]
    fn kubernetes_versions_read_as_major_and_minor() {
        assert_eq!(super::kubernetes_minor("v1.35.0-rc.1+k3s1"), Some((1, 35)));
        assert_eq!(super::kubernetes_minor("v1.9.0"), Some((1, 9)));
        assert_eq!(super::kubernetes_minor(""), None);
    }

    #[test]
    fn stamps_compare_as_times_not_text() {
        let (half, whole) = ("2026-01-01T00:00:00.5Z", "2026-01-01T00:00:00Z");
        assert!(half < whole, "as text");
        assert!(super::time_key(half) > super::time_key(whole));
        let (utc, ahead) = ("2026-01-01T10:30:00Z", "2026-01-01T11:00:00+01:00");
        assert!(utc < ahead, "as text");
        assert!(super::time_key(utc) > super::time_key(ahead));
        assert_eq!(
            super::time_key("2026-01-01T11:30:00+01:00"),
            super::time_key(utc)
        );
        for unknown in ["", "yesterday"] {
            assert_eq!(super::time_key(unknown), None);
            assert!(super::time_key(unknown) < super::time_key(whole));
        }
        let mut stamps = vec![whole, "", half, ahead];
        stamps.sort_by_key(|s| super::time_key(s));
        assert_eq!(stamps, vec!["", whole, half, ahead]);
    }
}

#[cfg(test)]
mod layer_tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    /// The layers, lowest first: a file may name only its own layer and
    /// the ones before it.
    const LAYERS: &[&str] = &[
        "model",
        "environment",
        "observe",
        "workloads",
        "changes",
        "faults",
        "scenarios",
        "judge",
        "report",
        "run",
    ];

    fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// Each library module (`judge::assess`) and the `crate::` paths its
    /// file names (tests included).
    fn modules() -> BTreeMap<String, Vec<String>> {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&src, &mut files);
        let mut modules = BTreeMap::new();
        for file in files {
            let relative = file.strip_prefix(&src).unwrap().with_extension("");
            let mut parts: Vec<String> = relative
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            if matches!(parts.as_slice(), [one] if one == "lib" || one == "main") {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            let paths = text
                .split("crate::")
                .skip(1)
                .map(|rest| {
                    rest.chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '_' || *c == ':')
                        .collect::<String>()
                        .trim_end_matches(':')
                        .to_string()
                })
                .collect();
            modules.insert(parts.join("::"), paths);
        }
        modules
    }

    fn layer(module: &str) -> Option<usize> {
        let top = module.split("::").next()?;
        LAYERS.iter().position(|l| *l == top)
    }

    #[test]
    fn layers_never_import_upward() {
        let mut upward = Vec::new();
        for (module, paths) in modules() {
            let own = layer(&module).unwrap_or_else(|| panic!("{module} is in no layer"));
            for path in paths {
                if layer(&path).is_some_and(|named| named > own) {
                    upward.push(format!("{module} -> {path}"));
                }
            }
        }
        assert!(upward.is_empty(), "imports upward: {upward:#?}");
    }

    /// Module-level: no module reaches itself through the modules it names
    /// (a parent and its children excepted).
    #[test]
    fn no_module_import_circle() {
        let modules = modules();
        let known: BTreeSet<&String> = modules.keys().collect();
        let edges: BTreeMap<&str, BTreeSet<String>> = modules
            .iter()
            .map(|(module, paths)| {
                let targets = paths
                    .iter()
                    .filter_map(|path| {
                        let parts: Vec<&str> = path.split("::").collect();
                        (1..=parts.len())
                            .rev()
                            .map(|k| parts[..k].join("::"))
                            .find(|m| known.contains(m))
                    })
                    .filter(|t| {
                        t != module
                            && !module.starts_with(&format!("{t}::"))
                            && !t.starts_with(&format!("{module}::"))
                    })
                    .collect();
                (module.as_str(), targets)
            })
            .collect();
        for start in edges.keys() {
            let mut seen = BTreeSet::new();
            let mut stack: Vec<Vec<String>> = vec![vec![start.to_string()]];
            while let Some(trail) = stack.pop() {
                for next in &edges[trail.last().unwrap().as_str()] {
                    assert!(
                        next != start,
                        "import circle: {} -> {next}",
                        trail.join(" -> ")
                    );
                    if seen.insert(next.clone()) {
                        let mut longer = trail.clone();
                        longer.push(next.clone());
                        stack.push(longer);
                    }
                }
            }
        }
    }
}
