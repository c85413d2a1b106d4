//! The opt-in least-privilege suite (`cargo test --test privilege`, or
//! `inplace-conformance check-access`): run as the suite's account
//! (INPLACE_KUBECONFIG from `scripts/cluster sa-kubeconfig`), it sends the
//! requests the account must not get through and the controls it must,
//! one test each, and writes least-privilege.{md,json} into the run
//! folder. Run with a cluster-wide identity it fails: it would prove
//! nothing.

use inplace_conformance::environment::config::RunConfig;
use inplace_conformance::run::attempts::{self, Expect};
use libtest_mimic::{Arguments, Failed, Trial};

fn main() {
    let args = Arguments::from_args();
    let checked = RunConfig::from_env().and_then(|config| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(attempts::check(&config))
    });
    let trials = match checked {
        Ok((report, files)) => {
            // Every answer once, before the tests report (which would
            // interleave them).
            for line in attempts::lines(&report) {
                eprintln!("[access-checks] {line}");
            }
            for file in &files {
                eprintln!("[access-checks] wrote {}", file.display());
            }
            report
                .outcomes
                .into_iter()
                .map(|o| {
                    Trial::test(format!("privilege::{}", o.name), move || {
                        let must = match o.expect {
                            Expect::Denied => "must be denied",
                            Expect::Allowed => "must be allowed",
                        };
                        if o.ok {
                            Ok(())
                        } else {
                            Err(Failed::from(format!(
                                "{} {must}, but the API server answered {} ({}): {}",
                                o.what, o.answer.code, o.answer.by, o.answer.message
                            )))
                        }
                    })
                })
                .collect()
        }
        Err(err) => {
            let why = format!("{err:#}");
            vec![Trial::test("privilege::could-not-run", move || {
                Err(Failed::from(why))
            })]
        }
    };
    libtest_mimic::run(&args, trials).exit();
}
