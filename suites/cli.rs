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
    run_with(args, output_dir, &[])
}

/// `run` with extra environment (PATH, INPLACE_REPO_ROOT, a version).
fn run_with(args: &[&str], output_dir: &Path, env: &[(&str, &str)]) -> (i32, String) {
    let out = Command::new(BIN)
        .args(args)
        .envs(env.iter().copied())
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
#[case::pull_name_without_a_registry(&["run", "--image-pull-registry", "localhost:30500"], "--image-registry <REF>")]
#[case::in_cluster_outside_a_pod(&["run", "--in-cluster"], "--in-cluster: no in-cluster config")]
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

/// Pushing needs the workload images' OCI layout: without it the run is
/// refused before any cluster is reached, naming the bootstrap step.
#[test]
fn exit_2_without_the_workload_layout_to_push() {
    let root = scratch("layout");
    let (code, text) = run_with(
        &[
            "run",
            "--kubeconfig",
            "Cargo.toml",
            "--image-registry",
            "registry.example:5000/ci",
        ],
        &root,
        &[("INPLACE_IMAGE_LAYOUT", "/nonexistent/layout")],
    );
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("scripts/bootstrap --only workload"), "{text}");
    assert_eq!(std::fs::read_dir(&root).unwrap().count(), 0);
    std::fs::remove_dir_all(root).unwrap();
}

/// `results` with no run behind it says so in one line, exit 3.
#[test]
fn results_without_a_finished_run_is_one_line() {
    let root = scratch("results");
    let archive = root.join("none.tar.gz");
    let (code, text) = run(
        &[
            "results",
            "--archive",
            archive.to_str().unwrap(),
            "--wait",
            "0",
        ],
        &root,
    );
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("no finished run"), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.starts_with("error:")).count(),
        1,
        "{text}"
    );
    std::fs::remove_dir_all(root).unwrap();
}

/// A PATH with every program of the current one except `missing`.
fn path_without(missing: &str, root: &Path) -> String {
    let shadow = root.join("bin");
    std::fs::create_dir_all(&shadow).unwrap();
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap()) {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let link = shadow.join(entry.file_name());
            if entry.file_name() != missing && !link.exists() {
                let _ = std::os::unix::fs::symlink(entry.path(), link);
            }
        }
    }
    shadow.display().to_string()
}

/// A file in scratch, for the input under test.
fn input(root: &Path, name: &str, text: &str) -> String {
    let path = root.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// A copy of the repository's inputs with one fixture rewritten.
fn repo_with_fixture(root: &Path, fixture: &str, text: &str) -> String {
    let repo = root.join("repo");
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(repo.join("fixtures")).unwrap();
    for dir in ["scripts", "images", "kind-config"] {
        std::os::unix::fs::symlink(here.join(dir), repo.join(dir)).unwrap();
    }
    for entry in std::fs::read_dir(here.join("fixtures")).unwrap().flatten() {
        if entry.path().is_file() {
            std::fs::copy(entry.path(), repo.join("fixtures").join(entry.file_name())).unwrap();
        }
    }
    std::fs::write(repo.join(fixture), text).unwrap();
    repo.display().to_string()
}

/// What a run of the binary left in its output folder (nothing, for bad
/// input), the scratch inputs aside.
fn left_behind(root: &Path, inputs: &[&str]) -> Vec<String> {
    std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !inputs.contains(&name.as_str()))
        .collect()
}

const MATRIX_HEAD: &str = "openkruise: [{version: v1.9.0, module_sum: 'h1:7MWDURrU7VlkapL1qaFLQehJG0OdTN338RSvzuzR3kU='}]\n";

#[test]
fn exit_2_on_unknown_fields_in_the_matrix_and_the_policy() {
    let root = scratch("fields");
    let matrix = input(
        &root,
        "m.yaml",
        &format!("{MATRIX_HEAD}kubernetes: [v1.34.4]\nkubernets: [x]\n"),
    );
    let (code, text) = run(&["qualify", "--matrix", &matrix], &root);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("unknown field `kubernets`"), "{text}");
    let good = input(
        &root,
        "good.yaml",
        &format!("{MATRIX_HEAD}kubernetes: [v1.34.4]\n"),
    );
    let policy = input(&root, "p.yaml", "defualt: required\n");
    let (code, text) = run(&["qualify", "--matrix", &good, "--policy", &policy], &root);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("unknown field `defualt`"), "{text}");
    assert!(left_behind(&root, &["m.yaml", "good.yaml", "p.yaml"]).is_empty());
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn exit_2_when_the_matrix_names_a_version_the_module_proxy_lacks() {
    let root = scratch("version");
    let matrix = input(
        &root,
        "m.yaml",
        &format!("{MATRIX_HEAD}kubernetes: [v9.9.9]\n"),
    );
    let (code, text) = run(&["qualify", "--matrix", &matrix], &root);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("names Kubernetes v9.9.9, which the Go module proxy does not serve"),
        "{text}"
    );
    assert_eq!(text.trim().lines().count(), 1, "one line: {text}");
    assert!(left_behind(&root, &["m.yaml"]).is_empty());
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn exit_2_when_go_is_missing_for_qualify() {
    let root = scratch("nogo");
    let path = path_without("go", &root);
    let (code, text) = run_with(
        &["qualify", "--matrix", "release/matrix.yaml"],
        &root,
        &[("PATH", &path)],
    );
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("required command 'go' not found on PATH"),
        "{text}"
    );
    assert!(text.contains("hint: install Go"), "{text}");
    assert!(left_behind(&root, &["bin"]).is_empty());
    std::fs::remove_dir_all(root).unwrap();
}

#[rstest]
#[case::podman_missing("podman", None, "required command 'podman' not found")]
#[case::kind_not_built("", Some(("KIND_VERSION", "v9.9.9")), "kind v9.9.9 is not built")]
fn exit_3_in_one_line_when_the_cluster_tooling_is_missing(
    #[case] missing: &str,
    #[case] env: Option<(&str, &str)>,
    #[case] says: &str,
) {
    let root = scratch("tooling");
    let path = path_without(missing, &root);
    let mut vars = vec![("PATH", path.as_str())];
    vars.extend(env);
    // A cluster name no one uses: nothing may be created under it.
    let name = format!("ipc-absent-{}", &uuid::Uuid::new_v4().to_string()[..8]);
    let (code, text) = run_with(
        &["run", "--cluster", &name, "--scenario", "inplace-image"],
        &root,
        &vars,
    );
    assert_eq!(code, 3, "{text}");
    let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{text}");
    assert!(
        errors[0].contains(says) && errors[0].contains("; hint: "),
        "{text}"
    );
    assert!(
        left_behind(&root, &["bin"]).is_empty(),
        "{:?}",
        left_behind(&root, &["bin"])
    );
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn exit_2_when_a_fixture_is_not_yaml() {
    let root = scratch("fixture");
    let repo = repo_with_fixture(
        &root,
        "fixtures/cloneset-inplace.yaml",
        "kind: CloneSet\nspec: [unclosed\n",
    );
    let (code, text) = run_with(
        &["run", "--scenario", "inplace-image"],
        &root,
        &[("INPLACE_REPO_ROOT", &repo)],
    );
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("fixtures/cloneset-inplace.yaml") && text.contains("hint: fix the fixture"),
        "{text}"
    );
    assert!(left_behind(&root, &["repo"]).is_empty());
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn exit_2_when_the_kubeconfig_context_does_not_exist() {
    let root = scratch("context");
    let kubeconfig = input(
        &root,
        "kubeconfig",
        "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n\
         users: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n\
         current-context: nope\n",
    );
    let (code, text) = run(
        &[
            "run",
            "--kubeconfig",
            &kubeconfig,
            "--image-delivery",
            "preloaded",
            "--scenario",
            "inplace-image",
        ],
        &root,
    );
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("current-context 'nope' is not among its contexts"),
        "{text}"
    );
    assert!(text.contains("contexts are [x]"), "{text}");
    assert_eq!(text.trim().lines().count(), 1, "one line: {text}");
    assert!(left_behind(&root, &["kubeconfig"]).is_empty());
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn scan_secrets_names_a_leaked_token_and_passes_a_clean_folder() {
    let root = scratch("secrets");
    let token = format!("eyJ{}", uuid::Uuid::new_v4().simple());
    let kubeconfig = input(
        &root,
        "kubeconfig",
        &format!("apiVersion: v1\nkind: Config\nusers: [{{name: sa, user: {{token: {token}}}}}]\n"),
    );
    std::fs::create_dir_all(root.join("run/diagnostics")).unwrap();
    input(&root, "run/report.md", "all PASS");
    let run_dir = root.join("run").display().to_string();
    let scan = || {
        run(
            &["scan-secrets", "--kubeconfig", &kubeconfig, &run_dir],
            &root,
        )
    };
    let (code, text) = scan();
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("none of 1 kubeconfig secret(s) in 1 file(s)"),
        "{text}"
    );
    input(
        &root,
        "run/diagnostics/events.yaml",
        &format!("message: Bearer {token}"),
    );
    let (code, text) = scan();
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("events.yaml: holds the kubeconfig's users[sa].token"),
        "{text}"
    );
    assert!(
        !text.contains(&token),
        "the secret itself is never printed: {text}"
    );
    std::fs::remove_dir_all(root).unwrap();
}

/// Two run folders of real recordings: one graceful run without the known
/// race and one with it are steady (exit 0, the race counted); a run where
/// the scenario failed makes the comparison exit 1 naming the check; a
/// folder with no recording is bad input.
#[test]
fn compare_runs_exits_by_whether_every_verdict_stayed_the_same() {
    let root = scratch("compare");
    let calm = cell(&root, "calm", &["graceful-inplace.json"], None);
    let raced = cell(
        &root,
        "raced",
        &["quirks/graceful-readiness-flap.json"],
        None,
    );
    // The flap with the pod's second exit taken out: still in the Service
    // when its container was told to stop.
    let failed = cell(
        &root,
        "failed",
        &["quirks/graceful-readiness-flap.json"],
        None,
    );
    let copy = failed.join("observations/quirks-graceful-readiness-flap.json");
    let mut record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&copy).unwrap()).unwrap();
    record["steps"][0]["traffic"]["endpoints"]
        .as_array_mut()
        .unwrap()
        .retain(|e| {
            !e["at"]
                .as_str()
                .unwrap()
                .starts_with("2026-11-27T22:25:14.06")
        });
    std::fs::write(&copy, record.to_string()).unwrap();
    let path = |p: &PathBuf| p.display().to_string();
    let (code, text) = run(&["compare-runs", &path(&calm), &path(&raced)], &root);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("| `graceful-inplace` | PASS x2 |"), "{text}");
    assert!(text.contains("known race `stale-ready-republished` met in 1 of 2 run(s)"));
    let (code, text) = run(&["compare-runs", &path(&calm), &path(&failed)], &root);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("- verdict differs: graceful-inplace / #1 pod was out of the Service"));
    let empty = root.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let (code, text) = run(&["compare-runs", &path(&calm), &path(&empty)], &root);
    assert_eq!(code, 2, "{text}");
    std::fs::remove_dir_all(root).unwrap();
}
