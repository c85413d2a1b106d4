//! The CLI's exit codes, each produced by running the built binary: 0 gate
//! passed, 1 gate failed, 2 bad input, 3 infrastructure. No cluster is
//! needed: the gate cases merge cell folders made of real recordings, the
//! infrastructure case points at an API server that does not answer.

use std::path::{Path, PathBuf};
use std::process::Command;

use rstest::rstest;

const BIN: &str = env!("CARGO_BIN_EXE_inplace-conformance");

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ipc-cli-{name}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[&str], output_dir: &Path) -> (i32, String) {
    let out = Command::new(BIN)
        .args(args)
        // A bare run writes under INPLACE_OUTPUT_DIR: keep it in scratch.
        .env("INPLACE_OUTPUT_DIR", output_dir)
        .env_remove("INPLACE_KUBECONFIG")
        .env_remove("INPLACE_CLUSTER")
        .env_remove("INPLACE_RUN_ID")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// A cell folder: `cell.json` plus real recordings as its observations.
fn cell(root: &Path, name: &str, recordings: &[&str], broken: Option<&str>) -> PathBuf {
    let dir = root.join(name);
    let observations = dir.join("observations");
    std::fs::create_dir_all(&observations).unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/observations");
    let mut scenarios = Vec::new();
    for file in recordings {
        std::fs::copy(
            fixtures.join(file),
            observations.join(file.replace('/', "-")),
        )
        .unwrap();
        let text = std::fs::read_to_string(fixtures.join(file)).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        scenarios.push(value["scenario"].as_str().unwrap().to_string());
    }
    let summary = serde_json::json!({
        "name": name, "kubernetes": "v1.34.4", "openkruise": "v1.9.0", "profile": "default",
        "cluster": "ipc-q-test", "started_at": "", "wall_seconds": 1.0, "build_seconds": 0.0,
        "scenarios": scenarios, "infrastructure_error": broken,
    });
    std::fs::write(dir.join("cell.json"), summary.to_string()).unwrap();
    dir
}

fn merge(root: &Path, extra: &[&str], cells: &[PathBuf]) -> (i32, String) {
    let out = root.join("merged");
    let mut args = vec!["merge", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.extend(cells.iter().map(|c| c.to_str().unwrap()));
    run(&args, root)
}

#[test]
fn exit_0_when_every_required_scenario_passed() {
    let root = scratch("pass");
    let a = cell(
        &root,
        "a",
        &["inplace-image.json", "cloneset-recreate.json"],
        None,
    );
    let (code, text) = merge(&root, &[], &[a]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("gate: PASS"), "{text}");
    assert!(root.join("merged/report.html").is_file());
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn exit_1_when_a_required_scenario_is_unsupported_and_0_when_it_is_informational() {
    let root = scratch("gate");
    let a = cell(
        &root,
        "a",
        &["inplace-image.json", "unsupported/workload-resize.json"],
        None,
    );
    let (code, text) = merge(&root, &[], std::slice::from_ref(&a));
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("a / workload-resize: UNSUPPORTED"), "{text}");
    let policy = root.join("gate.yaml");
    std::fs::write(&policy, "informational: [workload-resize]\n").unwrap();
    let (code, text) = merge(&root, &["--policy", policy.to_str().unwrap()], &[a]);
    assert_eq!(code, 0, "{text}");
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn exit_3_when_a_cell_could_not_run_or_never_reported() {
    let root = scratch("infra");
    let a = cell(&root, "a", &["inplace-image.json"], None);
    let b = cell(&root, "b", &[], Some("scripts/cluster up failed"));
    let (code, text) = merge(&root, &[], &[a.clone(), b]);
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("cell(s) b did not run"), "{text}");
    // A matrix cell with no folder among the inputs: a runner that died.
    let matrix = root.join("matrix.yaml");
    std::fs::write(
        &matrix,
        "kubernetes: [v1.34.4]\nopenkruise: [{version: v1.9.0, module_sum: 'h1:x='}]\n",
    )
    .unwrap();
    let (code, text) = merge(&root, &["--matrix", matrix.to_str().unwrap()], &[a]);
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("k8s-v1.34.4-kruise-v1.9.0-default"), "{text}");
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn exit_3_when_the_api_server_does_not_answer() {
    let root = scratch("unreachable");
    let kubeconfig = root.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n\
         users: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n\
         current-context: x\n",
    )
    .unwrap();
    let (code, text) = run(
        &[
            "run",
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--image-delivery",
            "preloaded",
            "--scenario",
            "inplace-image",
        ],
        &root,
    );
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("unreachable"), "{text}");
    assert_eq!(text.trim().lines().count(), 1, "one line: {text}");
    std::fs::remove_dir_all(root).unwrap();
}

#[rstest]
#[case::kubeconfig_not_a_file(&["run", "--kubeconfig", "/nonexistent/kubeconfig"], "is not a file")]
#[case::foreign_cluster_without_image_route(&["run", "--kubeconfig", "Cargo.toml"], "--image-registry REF")]
#[case::unknown_scenario(&["run", "--scenario", "no-such-scenario"], "no-such-scenario")]
#[case::bad_registry(&["run", "--image-registry", "https://r/x"], "not a registry reference")]
#[case::missing_matrix(&["qualify", "--matrix", "/nonexistent.yaml"], "reading the matrix")]
#[case::malformed_matrix(&["qualify", "--matrix", "fixtures/cloneset-inplace.yaml"], "hint: fields are")]
#[case::unknown_cell(&["qualify", "--matrix", "release/matrix.yaml", "--cell", "k8s-v9.9.9"], "hint: cells are")]
#[case::malformed_policy(&["qualify", "--matrix", "release/matrix.yaml", "--policy", "release/matrix.yaml"], "hint: fields are")]
#[case::bad_shard(&["qualify", "--matrix", "release/matrix.yaml", "--shard", "3/2"], "expected i/n")]
#[case::merge_nothing(&["merge", "--out", "/tmp/ipc-cli-none", "/nonexistent"], "holds no cell.json")]
fn exit_2_on_bad_input_before_anything_is_created(#[case] args: &[&str], #[case] says: &str) {
    let root = scratch("bad");
    let (code, text) = run(args, &root);
    assert_eq!(code, 2, "{args:?}: {text}");
    assert!(text.contains(says), "{args:?}: {text}");
    // Nothing was written: no run folder appeared.
    assert_eq!(std::fs::read_dir(&root).unwrap().count(), 0, "{args:?}");
    std::fs::remove_dir_all(root).unwrap();
}
