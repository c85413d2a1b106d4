//! The run folder: what a run leaves for people and tools (`report.md`,
//! `report.html`, `report.json`, `results.json`, `junit.xml`), written once
//! when the run ends (or is interrupted) from one model, by one writer that
//! loops over the formats; `report RUN_DIR` renders again through the same
//! writer, from `results.json` alone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

use crate::judge::gate::{self, Policy};
use crate::judge::judged::{self, Judged};
use crate::model::record::{ScenarioRecord, write_atomic};
use crate::model::verdict::Verdict;
use crate::report::{Report, Summary, build_judged, render_markdown};

/// What the run knows of itself beyond its records.
#[derive(Debug, Clone, Default)]
pub struct RunContext {
    pub run_id: String,
    /// The gate policy (default: every scenario required).
    pub policy: Policy,
    /// The scenarios the run was to run; empty: those with a record.
    pub expected: Vec<String>,
    /// The signal that stopped the run, if one did.
    pub interrupted: Option<String>,
}

/// One model, every format renders from it.
pub struct Folder {
    pub judged: Vec<Judged>,
    pub report: Report,
    pub markdown: String,
    pub results: Results,
}

/// One file of the run folder.
trait Format: Sync {
    fn file_name(&self) -> &'static str;
    fn render(&self, folder: &Folder) -> anyhow::Result<Vec<u8>>;
}

struct Markdown;
struct Html;
struct ReportJson;
struct ResultsJson;
struct JUnit;

/// The formats, in the order they are written (report.md first: the path
/// the run prints).
const FORMATS: &[&dyn Format] = &[&Markdown, &Html, &ReportJson, &ResultsJson, &JUnit];

impl Format for Markdown {
    fn file_name(&self) -> &'static str {
        "report.md"
    }
    fn render(&self, folder: &Folder) -> anyhow::Result<Vec<u8>> {
        Ok(folder.markdown.clone().into_bytes())
    }
}

impl Format for Html {
    fn file_name(&self) -> &'static str {
        "report.html"
    }
    fn render(&self, folder: &Folder) -> anyhow::Result<Vec<u8>> {
        let records: Vec<ScenarioRecord> = folder.judged.iter().map(|j| j.record.clone()).collect();
        use crate::report::html;
        let mut charts = Vec::new();
        if let Ok(svg) = html::latency_svg(&html::image_update_latency(&records)) {
            charts.push(("Image update latency", svg));
        }
        if let Ok(svg) = html::waterfall_svg(&html::image_phases(&records)) {
            charts.push(("Where an image update's time goes", svg));
        }
        let title = format!("inplace-conformance {}", folder.results.run_id);
        Ok(html::page(&title, &folder.markdown, &charts).into_bytes())
    }
}

impl Format for ReportJson {
    fn file_name(&self) -> &'static str {
        "report.json"
    }
    fn render(&self, folder: &Folder) -> anyhow::Result<Vec<u8>> {
        Ok(serde_json::to_string_pretty(&folder.report)?.into_bytes())
    }
}

impl Format for ResultsJson {
    fn file_name(&self) -> &'static str {
        "results.json"
    }
    fn render(&self, folder: &Folder) -> anyhow::Result<Vec<u8>> {
        Ok(serde_json::to_string_pretty(&folder.results)?.into_bytes())
    }
}

impl Format for JUnit {
    fn file_name(&self) -> &'static str {
        "junit.xml"
    }
    fn render(&self, folder: &Folder) -> anyhow::Result<Vec<u8>> {
        Ok(junit_judged(&folder.results.run_id, &folder.judged)?.into_bytes())
    }
}

/// The model of a run folder: every record judged once, the report with
/// its summary, the results.
pub fn model(
    records: Vec<ScenarioRecord>,
    unreadable: Vec<String>,
    context: &RunContext,
) -> Folder {
    let judged = judged::all(&records);
    let mut report = build_judged(&judged);
    report.unreadable = unreadable;
    report.summary = Summary::of(&judged, context);
    let markdown = render_markdown(&report);
    let mut results = results(&context.run_id, &records);
    results.policy = Some(context.policy.clone());
    results.expected = context.expected.clone();
    results.interrupted = context.interrupted.clone();
    Folder {
        judged,
        report,
        markdown,
        results,
    }
}

/// Writes every format of `folder` into `dir`; returns report.md's path.
pub fn write(dir: &Path, folder: &Folder) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for format in FORMATS {
        let path = dir.join(format.file_name());
        let bytes = format
            .render(folder)
            .with_context(|| format!("rendering {}", format.file_name()))?;
        write_atomic(&path, &bytes)?;
    }
    Ok(dir.join(Markdown.file_name()))
}

/// The run folder of a finished (or interrupted) run, from its
/// observations: judged once, written once. Returns the model (for the
/// summary and the gate) and report.md's path.
pub fn write_run(dir: &Path, context: &RunContext) -> anyhow::Result<(Folder, PathBuf)> {
    let (records, unreadable) = load_records(dir)?;
    let folder = model(records, unreadable, context);
    let path = write(dir, &folder)?;
    Ok((folder, path))
}

/// Renders a run folder again through the same writer: from its
/// `results.json` alone when it has one (the observations may be gone, or
/// the run may come from another machine), else from its observations.
pub fn render_again(dir: &Path) -> anyhow::Result<PathBuf> {
    let path = dir.join("results.json");
    if !path.is_file() {
        anyhow::ensure!(
            dir.join("observations").is_dir(),
            "{} holds no results.json and no observations; hint: name a run folder under \
             target/conformance/",
            dir.display()
        );
        let context = RunContext {
            run_id: folder_name(dir),
            ..Default::default()
        };
        return Ok(write_run(dir, &context)?.1);
    }
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let schema = serde_json::from_str::<serde_json::Value>(&text)
        .with_context(|| format!("parsing {}", path.display()))?["schema"]
        .as_u64();
    anyhow::ensure!(
        schema.is_some_and(|v| (1..=u64::from(RESULTS_SCHEMA)).contains(&v)),
        "{} has schema {schema:?}, this build reads up to {RESULTS_SCHEMA}",
        path.display()
    );
    let results: Results =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    if !results.cells.is_empty() {
        // A qualification run: the combined report, under the policy it
        // was gated with.
        let decision = gate::decide(
            &results.policy.clone().unwrap_or_default(),
            &results
                .cells
                .iter()
                .map(|c| (c.name.clone(), c.scenarios.clone()))
                .collect::<Vec<_>>(),
            &results.records,
        );
        let combined = crate::report::crosscell::Combined {
            run_id: results.run_id.clone(),
            cells: results.cells.clone(),
            records: results.records.clone(),
            policy: results.policy.clone().unwrap_or_default(),
            decision,
        };
        return crate::report::crosscell::write(dir, &combined);
    }
    let context = RunContext {
        run_id: results.run_id.clone(),
        policy: results.policy.clone().unwrap_or_default(),
        expected: results.expected.clone(),
        interrupted: results.interrupted.clone(),
    };
    write(dir, &model(results.records, Vec::new(), &context))
}

/// The run's last event: the folder's summary and failures, and where it
/// is (`took`: the time the folder took to write).
pub fn announce(folder: &Folder, path: &Path, took: std::time::Duration) {
    let summary = &folder.report.summary;
    let count = |verdict: Verdict| {
        summary
            .verdicts
            .iter()
            .find(|(label, _)| label == verdict.label())
            .map_or(0, |(_, n)| *n)
    };
    crate::model::event::emit(crate::model::event::Event::RunFinished {
        passed: count(Verdict::Pass),
        failed: count(Verdict::Fail),
        unsupported: count(Verdict::Unsupported),
        interrupted: count(Verdict::Interrupted),
        write_seconds: took.as_secs_f64(),
        summary: summary
            .lines()
            .into_iter()
            .chain(summary.failures.iter().map(|f| format!("FAIL {f}")))
            .collect(),
        report: path.display().to_string(),
    });
}

fn folder_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A run or cell folder's records: its results.json, else its observation
/// files.
pub fn folder_records(dir: &Path) -> anyhow::Result<Vec<ScenarioRecord>> {
    let results = dir.join("results.json");
    if results.is_file() {
        let text = std::fs::read_to_string(&results)
            .with_context(|| format!("reading {}", results.display()))?;
        let parsed: Results = serde_json::from_str(&text)
            .with_context(|| format!("parsing {}", results.display()))?;
        return Ok(parsed.records);
    }
    Ok(load_records(dir)?.0)
}

/// Reads every `observations/*.json` under `output_dir`.
pub fn load_records(output_dir: &Path) -> anyhow::Result<(Vec<ScenarioRecord>, Vec<String>)> {
    let dir = output_dir.join("observations");
    let mut records = Vec::new();
    let mut unreadable = Vec::new();
    if !dir.is_dir() {
        return Ok((records, unreadable));
    }
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    for path in paths {
        match ScenarioRecord::load(&path) {
            Ok(record) => records.push(record),
            Err(err) => unreadable.push(format!("{} ({err:#})", path.display())),
        }
    }
    Ok((records, unreadable))
}

/// Bumped when `results.json` changes meaning.
/// 2: `cells` (a qualification run's cell summaries) and each record's
/// `cluster.cell`, `cluster.kruise_version`.
/// 3: `expected` (the scenarios the run was to run) and `interrupted`.
/// 4: each step's `accepted_at` and pod `timeline`, and `phases` (the
/// milestones read from them, per scenario).
pub const RESULTS_SCHEMA: u32 = 4;

/// `results.json`: everything a run observed, with what it ran against; a
/// report can be rendered again from it alone.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Results {
    pub schema: u32,
    pub run_id: String,
    pub generated_at: String,
    /// Each distinct cluster the records name (one per cell of a matrix).
    pub clusters: Vec<crate::model::record::ClusterFacts>,
    /// The cells of a qualification run (empty for `run` and `cargo test`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cells: Vec<crate::model::cell::CellSummary>,
    /// The gate policy a qualification run was decided with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<crate::judge::gate::Policy>,
    /// The scenarios the run was to run (a missing record is NOT RUN).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expected: Vec<String>,
    /// Set when a signal stopped the run: the folder holds what finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<String>,
    /// Per scenario (`cell/scenario` in a qualification), where the time of
    /// each change went
    /// (`judge::phases`, from the records' timelines).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub phases: BTreeMap<String, Vec<crate::report::StepPhases>>,
    pub records: Vec<ScenarioRecord>,
}

pub fn results(run_id: &str, records: &[ScenarioRecord]) -> Results {
    let mut clusters: Vec<crate::model::record::ClusterFacts> = Vec::new();
    for r in records {
        let mut facts = r.cluster.clone();
        facts.nodes.clear();
        if !clusters
            .iter()
            .any(|c| c.name == facts.name && c.cell == facts.cell)
        {
            clusters.push(facts);
        }
    }
    Results {
        schema: RESULTS_SCHEMA,
        run_id: run_id.to_string(),
        generated_at: crate::now_rfc3339(),
        clusters,
        cells: Vec::new(),
        policy: None,
        expected: Vec::new(),
        interrupted: None,
        phases: records
            .iter()
            .map(|r| {
                let key = match r.cluster.cell.as_str() {
                    "" => r.scenario.clone(),
                    cell => format!("{cell}/{}", r.scenario),
                };
                (key, crate::report::step_phases(r))
            })
            .filter(|(_, p)| !p.is_empty())
            .collect(),
        records: records.to_vec(),
    }
}

/// `junit.xml`: one test case per scenario (per cluster), a failure
/// carrying every failed check as expected versus observed; an unsupported
/// scenario is a failure of type `unsupported`, never a pass.
pub fn junit(run_id: &str, records: &[ScenarioRecord]) -> anyhow::Result<String> {
    junit_judged(run_id, &judged::all(records))
}

/// The same over records judged once.
pub fn junit_judged(run_id: &str, judged: &[Judged]) -> anyhow::Result<String> {
    use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
    let mut report = quick_junit::Report::new(format!("inplace-conformance {run_id}"));
    let mut suites: Vec<(String, TestSuite)> = Vec::new();
    for Judged {
        record,
        checks,
        verdict,
        ..
    } in judged
    {
        let cell = if !record.cluster.cell.is_empty() {
            record.cluster.cell.clone()
        } else if record.cluster.name.is_empty() {
            "cluster".to_string()
        } else {
            record.cluster.name.clone()
        };
        let status = match *verdict {
            Verdict::Pass => TestCaseStatus::success(),
            verdict => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                let failed: Vec<String> = checks
                    .iter()
                    .filter(|c| {
                        matches!(
                            c.verdict,
                            Verdict::Fail
                                | Verdict::Unsupported
                                | Verdict::Interrupted
                                | Verdict::KnownDefect
                        )
                    })
                    .map(|c| {
                        format!(
                            "[{}] expected {}, observed {}",
                            c.name, c.expected, c.observed
                        )
                    })
                    .chain(record.error.iter().map(|e| format!("stopped early: {e}")))
                    .collect();
                status.set_type(match verdict {
                    Verdict::Unsupported => "unsupported",
                    Verdict::Interrupted => "interrupted",
                    Verdict::KnownDefect => "known-defect",
                    _ => "failed",
                });
                status.set_message(failed.first().cloned().unwrap_or_default());
                status.set_description(failed.join("\n"));
                status
            }
        };
        let mut case = TestCase::new(record.scenario.clone(), status);
        case.set_classname(format!("{cell}.{}", record.workload.kind.replace(' ', "")));
        // What the verdict was obtained on, for tools that read only JUnit.
        let platform = crate::judge::platform::of(record);
        case.add_properties([
            quick_junit::Property::new("runtime", platform.runtime.clone()),
            quick_junit::Property::new("cgroup", platform.cgroup.clone()),
            quick_junit::Property::new("topology", platform.topology()),
        ]);
        if let Some(i) = suites.iter().position(|(c, _)| *c == cell) {
            suites[i].1.add_test_case(case);
        } else {
            let mut suite = TestSuite::new(format!("cell {cell}"));
            suite.add_test_case(case);
            suites.push((cell, suite));
        }
    }
    report.add_test_suites(suites.into_iter().map(|(_, s)| s));
    Ok(report.to_string()?)
}
