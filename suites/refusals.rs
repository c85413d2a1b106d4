//! Bad input that only a real cluster can show, each refused with one line
//! of cause and hint and nothing changed: a namespace name already in use,
//! a reused cluster running another OpenKruise version than requested, a
//! fixture field the API server does not know. Runs against the cluster of
//! the run (`scripts/test` gives it), like the scenario suites.

use std::path::{Path, PathBuf};

use inplace_conformance::environment::cluster::{self, Cluster};
use inplace_conformance::environment::config::RunConfig;
use inplace_conformance::workloads::Fixture;
use k8s_openapi::api::core::v1::Namespace;
use kube::Client;
use kube::api::{Api, DeleteParams, PostParams};

async fn cluster() -> (RunConfig, Cluster, Client) {
    let config = RunConfig::from_env().unwrap();
    let cluster = config
        .acquire_cluster()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let client = cluster.client().await.unwrap_or_else(|e| panic!("{e}"));
    (config, cluster, client)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_namespace_name_in_use_is_refused_and_left_alone() {
    let (config, _, client) = cluster().await;
    let name = format!("ipc-in-use-{}", inplace_conformance::short_id());
    // The namespace in the way is someone else's: made by the cluster's
    // admin when the run acts as the suite's account (which may not make
    // a namespace without its labels).
    let owner = match std::env::var_os("INPLACE_ADMIN_KUBECONFIG") {
        Some(path) => {
            let kubeconfig = kube::config::Kubeconfig::read_from(path).unwrap();
            let options = kube::config::KubeConfigOptions::default();
            let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .unwrap();
            Client::try_from(config).unwrap()
        }
        None => client.clone(),
    };
    let namespaces: Api<Namespace> = Api::all(owner);
    let mut taken = Namespace::default();
    taken.metadata.name = Some(name.clone());
    let created = namespaces
        .create(&PostParams::default(), &taken)
        .await
        .unwrap();
    let refused =
        inplace_conformance::run::runner::create_namespace(&client, &name, "x", &config.run_id)
            .await;
    let still = namespaces.get(&name).await.unwrap();
    namespaces
        .delete(&name, &DeleteParams::default())
        .await
        .unwrap();
    let err = format!("{:#}", refused.unwrap_err());
    assert!(
        err.contains(&format!("namespace {name} already exists")),
        "{err}"
    );
    assert!(
        err.contains("hint: `inplace-conformance cleanup --run-id ID`"),
        "{err}"
    );
    // Not taken over: no run label was added to the user's namespace.
    assert_eq!(still.metadata.uid, created.metadata.uid);
    assert_eq!(still.metadata.labels, created.metadata.labels);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reused_cluster_with_another_openkruise_version_is_refused_untouched() {
    let (config, cluster, client) = cluster().await;
    let name = cluster
        .kind_node
        .clone()
        .expect("this test needs the run's kind cluster (INPLACE_CLUSTER)");
    let before = inplace_conformance::observe::kruise::manager_image(&client).await;
    let installed = before
        .as_deref()
        .and_then(inplace_conformance::observe::kruise::version_of_image);
    let other = if installed.as_deref() == Some("v1.8.2") {
        "v1.9.0"
    } else {
        "v1.8.2"
    };
    let out = std::process::Command::new(cluster::cluster_script(&config.repo_root))
        .args(["up", "--name", &name])
        .env("KRUISE_VERSION", other)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let cause = format!(
        "runs OpenKruise {}, not the requested {other}",
        installed.unwrap_or_default()
    );
    assert!(stderr.contains(&cause), "{stderr}");
    assert!(stderr.contains("hint: use another --name"), "{stderr}");
    assert_eq!(
        inplace_conformance::observe::kruise::manager_image(&client).await,
        before
    );
}

/// A copy of the fixtures in a scratch root, one of them rewritten.
fn fixtures_with(fixture: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root =
        std::env::temp_dir().join(format!("ipc-refusals-{}", inplace_conformance::short_id()));
    std::fs::create_dir_all(root.join("fixtures")).unwrap();
    let text = std::fs::read_to_string(here.join(fixture)).unwrap();
    std::fs::write(root.join(fixture), edit(text)).unwrap();
    root
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fixture_field_the_api_server_does_not_know_is_refused_by_a_strict_dry_run() {
    let (config, _, client) = cluster().await;
    let fixture = "fixtures/cloneset-inplace.yaml";
    let access = inplace_conformance::run::access::resolve(&client)
        .await
        .unwrap();
    let dry_run = |fixture: Fixture| {
        let (client, access, run_id) = (client.clone(), access.clone(), config.run_id.clone());
        async move {
            inplace_conformance::run::access::dry_run_fixtures(
                &client,
                &access,
                &run_id,
                &[&fixture],
            )
            .await
        }
    };
    let planned = Fixture::load(&config.repo_root, fixture).unwrap();
    dry_run(planned).await.unwrap();
    let root = fixtures_with(fixture, |t| {
        t.replace(
            "    maxUnavailable: 1\n",
            "    maxUnavailable: 1\n    maxUnavalable: 2\n",
        )
    });
    let misspelt = Fixture::load(&root, fixture).unwrap();
    let refused = dry_run(misspelt).await;
    std::fs::remove_dir_all(&root).unwrap();
    let err = format!("{:#}", refused.unwrap_err());
    assert!(
        err.contains("unknown field \"spec.updateStrategy.maxUnavalable\""),
        "{err}"
    );
    assert!(err.contains("hint: fix the fixture"), "{err}");
}
