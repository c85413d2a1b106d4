//! The report, rendered from recorded observations only: the seed's
//! comparison table with one observed column per strategy run, the
//! behaviour matrix (one row per scenario, every cell observed and judged
//! against its expectation, whose source is linked), the claims C1..C13
//! with their verdicts, and every scenario's checks, opened by the run's
//! summary. Markdown for people, JSON for tools, written once per run
//! (`folder`); the console reporter (`console`) prints while it runs.

pub mod compare;
pub mod console;
pub mod crosscell;
pub mod folder;
pub mod html;
mod markdown;
mod summary;

pub use folder::{RESULTS_SCHEMA, Results, folder_records, junit, load_records, results};
pub use markdown::*;
pub use summary::*;

use std::collections::BTreeSet;

use serde::Serialize;

use crate::judge::assess::{self, CellVerdict, Check, ClaimVerdict, Verdict};
use crate::judge::judged::{self, Judged};
use crate::model::record::ScenarioRecord;
use crate::scenarios::expect::{self, Outcome, Row};

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub generated_at: String,
    pub columns: Vec<Column>,
    pub comparison: Vec<ComparisonRow>,
    pub matrix: Vec<MatrixRow>,
    pub claims: Vec<ClaimVerdict>,
    pub scenarios: Vec<ScenarioSummary>,
    /// Observation files that could not be read (listed, not fatal).
    pub unreadable: Vec<String>,
    /// What the report opens with: verdict counts, gate, cluster, time.
    pub summary: Summary,
}

/// A seed column that was run, and the recording it shows.
#[derive(Debug, Clone, Serialize)]
pub struct Column {
    pub label: String,
    pub scenario: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ComparisonRow {
    pub row: Row,
    pub label: String,
    pub seed_standard_rolling: String,
    pub seed_openkruise_in_place: String,
    /// One per column, same order.
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub expected: Outcome,
    pub observed: Outcome,
    pub detail: String,
    pub verdict: Verdict,
}

/// The behaviour matrix's columns, in order.
pub const MATRIX_COLUMNS: &[&str] = &[
    "pod identity",
    "containers restarted",
    "root fs",
    "emptyDir",
    "memory emptyDir",
    "PVC",
    "IP",
    "restartCount per container",
];

/// One scenario in the behaviour matrix.
#[derive(Debug, Clone, Serialize)]
pub struct MatrixRow {
    pub scenario: String,
    pub key: String,
    pub changes: Vec<String>,
    /// One per `MATRIX_COLUMNS` entry.
    pub cells: Vec<MatrixCell>,
    /// Where the expectations come from (title, url), one per distinct one.
    pub sources: Vec<(String, String)>,
    pub verdict: Verdict,
    pub unsupported: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MatrixCell {
    pub observed: String,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScenarioSummary {
    pub scenario: String,
    pub summary: String,
    pub namespace: String,
    pub started_at: String,
    pub finished_at: String,
    pub cluster: String,
    /// Runtime, cgroup version and topology the verdict was obtained on.
    pub platform: String,
    pub workload: String,
    pub image_delivery: String,
    pub updates: Vec<String>,
    pub error: Option<String>,
    pub verdict: Verdict,
    pub checks: Vec<Check>,
    /// Where the time of each change went (`judge::phases`).
    pub phases: Vec<StepPhases>,
    /// Where the scenario's wall time went (`ScenarioRecord::laps`).
    pub laps: Vec<crate::model::record::Lap>,
}

/// The milestones of one change of one scenario.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct StepPhases {
    /// 1-based, as the report numbers changes.
    pub step: usize,
    pub change: String,
    pub milestones: Vec<crate::judge::phases::Milestone>,
}

/// The phases of every change of `record` that has any.
pub fn step_phases(record: &ScenarioRecord) -> Vec<StepPhases> {
    record
        .steps
        .iter()
        .map(|s| StepPhases {
            step: s.index + 1,
            change: s.change.kind.clone(),
            milestones: crate::judge::phases::milestones(s),
        })
        .filter(|p| !p.milestones.is_empty())
        .collect()
}

/// Builds the report model from records (any order, any subset).
pub fn build(records: &[ScenarioRecord]) -> Report {
    build_judged(&judged::all(records))
}

/// Builds the report model from records judged once.
pub fn build_judged(judged: &[Judged]) -> Report {
    let mut judged: Vec<&Judged> = judged.iter().collect();
    judged.sort_by(|a, b| a.record.scenario.cmp(&b.record.scenario));
    let records: Vec<&ScenarioRecord> = judged.iter().map(|j| &j.record).collect();
    let column_records: Vec<&ScenarioRecord> = expect::SEED_COLUMNS
        .iter()
        .filter_map(|c| column_record(&records, c))
        .collect();
    let owned: Vec<Judged> = judged.iter().map(|j| (*j).clone()).collect();
    Report {
        generated_at: crate::now_rfc3339(),
        columns: column_records
            .iter()
            .map(|r| Column {
                label: r.seed_column.clone().unwrap_or_default(),
                scenario: r.scenario.clone(),
            })
            .collect(),
        comparison: comparison_rows(&column_records),
        matrix: judged
            .iter()
            .filter(|j| !j.record.steps.is_empty() || j.record.unsupported.is_some())
            .map(|j| matrix_row_judged(j))
            .collect(),
        claims: judged::claims(&owned),
        scenarios: judged.iter().map(|j| summarize(j)).collect(),
        unreadable: Vec::new(),
        summary: Summary::default(),
    }
}

/// The recording of a seed column; the latest if several.
fn column_record<'a>(records: &[&'a ScenarioRecord], column: &str) -> Option<&'a ScenarioRecord> {
    records
        .iter()
        .filter(|r| r.seed_column.as_deref() == Some(column))
        .max_by_key(|r| crate::time_key(&r.finished_at))
        .copied()
}

fn comparison_rows(columns: &[&ScenarioRecord]) -> Vec<ComparisonRow> {
    use strum::IntoEnumIterator;
    Row::iter()
        .map(|row| {
            let seed = expect::seed_row(row);
            ComparisonRow {
                row,
                label: row.label(),
                seed_standard_rolling: seed.standard_rolling.into(),
                seed_openkruise_in_place: seed.openkruise_in_place.into(),
                cells: columns
                    .iter()
                    .map(|record| {
                        let (expected, observed, detail) = assess::seed_row_outcome(record, row);
                        Cell {
                            expected,
                            observed,
                            detail,
                            verdict: if observed == expected {
                                Verdict::Pass
                            } else {
                                Verdict::Fail
                            },
                        }
                    })
                    .collect(),
            }
        })
        .collect()
}

/// One matrix row: the record's cells grouped by matrix column.
pub fn matrix_row(record: &ScenarioRecord) -> MatrixRow {
    matrix_row_judged(&Judged::of(record.clone()))
}

/// The same for a record judged once.
pub fn matrix_row_judged(judged: &Judged) -> MatrixRow {
    let record = &judged.record;
    let cells = &judged.cells;
    let of = |rows: &[Row]| -> Vec<&CellVerdict> {
        cells.iter().filter(|c| rows.contains(&c.row)).collect()
    };
    let columns = vec![
        matrix_cell(record, &of(&[Row::PodIdentity])),
        restarted_cell(record, &of(&[Row::ContainerRebuild])),
        matrix_cell(record, &of(&[Row::RootFs])),
        matrix_cell(record, &of(&[Row::EmptyDir])),
        matrix_cell(record, &of(&[Row::MemoryEmptyDir])),
        matrix_cell(record, &of(&[Row::Pvc])),
        matrix_cell(record, &of(&[Row::NetworkIdentity])),
        restart_counts_cell(record, &of(&[Row::RestartCount])),
    ];
    let mut sources: Vec<(String, String)> = Vec::new();
    for e in record
        .steps
        .iter()
        .filter_map(|s| assess::expectation(record, s))
    {
        let source = (e.source.title.to_string(), e.source.url.to_string());
        if !sources.contains(&source) {
            sources.push(source);
        }
    }
    MatrixRow {
        scenario: record.scenario.clone(),
        key: format!("{} {}", record.workload.kind, record.workload.strategy),
        changes: record
            .steps
            .iter()
            .map(|s| format!("{}: {}", s.change.kind, admission_note(s)))
            .collect(),
        cells: columns,
        sources,
        unsupported: record.unsupported.clone(),
        verdict: judged.verdict,
    }
}

fn admission_note(step: &crate::model::record::UpdateStep) -> String {
    match &step.admission {
        crate::model::record::Admission::Accepted => step.change.description.clone(),
        crate::model::record::Admission::Rejected { code, .. } => {
            format!("{} (refused, {code})", step.change.description)
        }
    }
}

fn cells_verdict(cells: &[&CellVerdict]) -> Verdict {
    if cells.is_empty() {
        Verdict::NotRun
    } else {
        assess::roll_up(cells.iter().map(|c| c.verdict))
    }
}

/// Observed outcomes, grouped: "kept" when all agree, else
/// "app-1: kept; app-2, app-3: not kept"; a single cell shows its facts.
fn matrix_cell(record: &ScenarioRecord, cells: &[&CellVerdict]) -> MatrixCell {
    let observed = match cells {
        [] => "-".to_string(),
        [one] => format!("{} ({})", one.observed.label(), one.detail),
        _ => group_by_label(record, cells, |c| c.observed.label()),
    };
    MatrixCell {
        observed: with_expectations(observed, cells),
        verdict: cells_verdict(cells),
    }
}

/// Failing cells name what was expected.
fn with_expectations(observed: String, cells: &[&CellVerdict]) -> String {
    let failed: BTreeSet<String> = cells
        .iter()
        .filter(|c| c.verdict == Verdict::Fail)
        .map(|c| c.expected.label())
        .collect();
    if failed.is_empty() {
        observed
    } else {
        let list: Vec<String> = failed.into_iter().collect();
        format!("{observed}; expected {}", list.join(" / "))
    }
}

fn group_by_label(
    record: &ScenarioRecord,
    cells: &[&CellVerdict],
    label: impl Fn(&CellVerdict) -> String,
) -> String {
    let labels: Vec<String> = cells.iter().map(|c| label(c)).collect();
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for (cell, l) in cells.iter().zip(labels) {
        let place = assess::cell_place(record, cell);
        match groups.iter_mut().find(|(g, _)| *g == l) {
            Some((_, places)) => places.push(place),
            None => groups.push((l, vec![place])),
        }
    }
    if let [(l, places)] = groups.as_slice() {
        return format!("{l} ({})", places.join(", "));
    }
    groups
        .into_iter()
        .map(|(l, places)| format!("{}: {l}", places.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Which containers were rebuilt (in place or in a new pod), per step.
fn restarted_cell(record: &ScenarioRecord, cells: &[&CellVerdict]) -> MatrixCell {
    let mut parts = Vec::new();
    for step in &record.steps {
        let of_step: Vec<&&CellVerdict> = cells.iter().filter(|c| c.step == step.index).collect();
        let mut in_place = BTreeSet::new();
        let mut new_pod = BTreeSet::new();
        for c in &of_step {
            let name = assess::cell_place_in_step(record, c);
            match c.observed {
                Outcome::RebuiltInPod => {
                    in_place.insert(name);
                }
                Outcome::NewPod => {
                    new_pod.insert(name);
                }
                _ => {}
            }
        }
        let mut text = Vec::new();
        if !in_place.is_empty() {
            text.push(format!("{} in place", join(&in_place)));
        }
        if !new_pod.is_empty() {
            text.push(format!("{} in a new pod", join(&new_pod)));
        }
        if text.is_empty() {
            text.push("none".into());
        }
        let prefix = if record.steps.len() > 1 {
            format!("#{}: ", step.index + 1)
        } else {
            String::new()
        };
        parts.push(format!("{prefix}{}", text.join(", ")));
    }
    MatrixCell {
        observed: with_expectations(parts.join("; "), cells),
        verdict: cells_verdict(cells),
    }
}

fn join(set: &BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// "app 0 -> 1, side 0 -> 0" per step.
fn restart_counts_cell(record: &ScenarioRecord, cells: &[&CellVerdict]) -> MatrixCell {
    let mut parts = Vec::new();
    for step in &record.steps {
        let texts: Vec<String> = cells
            .iter()
            .filter(|c| c.step == step.index)
            .map(|c| format!("{} {}", assess::cell_place_in_step(record, c), c.detail))
            .collect();
        let prefix = if record.steps.len() > 1 {
            format!("#{}: ", step.index + 1)
        } else {
            String::new()
        };
        parts.push(format!("{prefix}{}", texts.join(", ")));
    }
    MatrixCell {
        observed: with_expectations(parts.join("; "), cells),
        verdict: cells_verdict(cells),
    }
}

fn summarize(judged: &Judged) -> ScenarioSummary {
    let record = &judged.record;
    ScenarioSummary {
        scenario: record.scenario.clone(),
        summary: record.summary.clone(),
        namespace: record.namespace.clone(),
        started_at: record.started_at.clone(),
        finished_at: record.finished_at.clone(),
        cluster: format!(
            "{}: Kubernetes {}, OpenKruise {} ({}), gates on: {}",
            or_unknown(&record.cluster.name),
            or_unknown(&record.cluster.server_version),
            record.cluster.kruise_version.as_deref().unwrap_or("?"),
            record
                .cluster
                .kruise_image
                .as_deref()
                .unwrap_or("kruise image unknown"),
            gates_on(&record.cluster.kruise_gates),
        ),
        platform: crate::judge::platform::of(record).describe(),
        workload: format!(
            "{} {} ({}, {}), fixture {}",
            record.workload.kind,
            record.workload.name,
            record.workload.api_version,
            record.workload.strategy,
            record.workload.fixture
        ),
        image_delivery: record
            .notes
            .get("image delivery")
            .cloned()
            .unwrap_or_else(|| format!("{:?}", record.image_delivery)),
        updates: record
            .steps
            .iter()
            .map(|s| {
                format!(
                    "#{} {}: {} in {:.1}s",
                    s.index + 1,
                    s.change.kind,
                    admission_note(s),
                    s.duration_ms as f64 / 1000.0
                )
            })
            .collect(),
        error: record.error.clone(),
        verdict: judged.verdict,
        checks: judged.checks.clone(),
        phases: step_phases(record),
        laps: record.laps.clone(),
    }
}

fn gates_on(gates: &std::collections::BTreeMap<String, bool>) -> String {
    let on: Vec<&str> = gates
        .iter()
        .filter(|(_, on)| **on)
        .map(|(g, _)| g.as_str())
        .collect();
    if on.is_empty() {
        "none named".into()
    } else {
        on.join(", ")
    }
}

fn or_unknown(s: &str) -> &str {
    if s.is_empty() { "?" } else { s }
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator;

    use super::*;
    use crate::model::record::samples::{self, fixture};

    /// A known race does not change the verdict; the report tells it, with
    /// its cause and link, under its own heading.
    #[test]
    fn known_races_are_listed_with_their_cause() {
        let raced = render_markdown(&build(&[fixture("quirks/graceful-readiness-flap.json")]));
        assert!(raced.contains("### graceful-inplace: PASS"), "{raced}");
        let section = raced
            .split("## Known races met")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .unwrap();
        assert!(section.contains(
            "| graceful-inplace | #1 pod was out of the Service when its container stopped | \
             [stale-ready-republished](https://github.com/kubernetes/kubernetes/issues/122002) |"
        ));
        assert!(section.contains("- `stale-ready-republished`: kruise writes"));
        let calm = render_markdown(&build(&[fixture("graceful-inplace.json")]));
        assert!(
            calm.contains("None of the known races (`src/scenarios/races.rs`) showed in this run.")
        );
    }

    fn both() -> Vec<ScenarioRecord> {
        vec![samples::recreate(), samples::in_place()]
    }

    fn all() -> Vec<ScenarioRecord> {
        std::fs::read_dir(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/observations"),
        )
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| ScenarioRecord::load(&p).unwrap())
        .collect()
    }

    /// Two recordings of one column: the later in time wins, though its
    /// stamp sorts first as text.
    #[test]
    fn the_latest_column_record_is_latest_in_time() {
        let mut earlier = samples::in_place();
        earlier.finished_at = "2026-01-01T00:00:00Z".into();
        let mut later = samples::in_place();
        later.finished_at = "2026-01-01T00:00:00.5Z".into();
        for records in [[&earlier, &later], [&later, &earlier]] {
            let found = column_record(&records, "CloneSet InPlaceIfPossible").unwrap();
            assert_eq!(found.finished_at, later.finished_at);
        }
    }

    #[test]
    fn columns_follow_the_seed_order_and_only_columns_run() {
        let report = build(&both());
        let labels: Vec<&str> = report.columns.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(
            labels,
            vec!["CloneSet InPlaceIfPossible", "CloneSet ReCreate"]
        );
        assert!(report.comparison.iter().all(|r| r.cells.len() == 2));
    }

    #[test]
    fn markdown_table_reproduces_the_seed_rows() {
        let md = render_markdown(&build(&both()));
        for row in Row::iter() {
            assert!(md.contains(&format!("| {} |", row.label())), "{row:?}");
        }
        assert!(md.contains(
            "| property | seed: standard rolling update | seed: OpenKruise in-place | \
             CloneSet InPlaceIfPossible (`inplace-image`) | CloneSet ReCreate (`cloneset-recreate`) |"
        ));
        let pod_identity = md
            .lines()
            .find(|l| l.starts_with("| pod identity |"))
            .unwrap();
        let in_place = &samples::in_place().steps[0].pods[0].after;
        let recreate = &samples::recreate().steps[0].pods[0];
        assert!(pod_identity.contains(&format!(
            "**PASS** kept (name {} kept, UID kept)",
            in_place.name
        )));
        assert!(pod_identity.contains(&format!(
            "**PASS** not kept (name {} -> {}, UID changed)",
            recreate.before.name, recreate.after.name
        )));
    }

    #[test]
    fn table_rows_have_as_many_cells_as_the_header() {
        let md = render_markdown(&build(&all()));
        for start in ["| property", "| scenario"] {
            let table: Vec<&str> = md
                .lines()
                .skip_while(|l| !l.starts_with(start))
                .take_while(|l| l.starts_with('|'))
                .collect();
            assert!(table.len() > 2, "{start}");
            let cells = |l: &str| l.matches(" | ").count();
            assert!(table.iter().all(|l| cells(l) == cells(table[0])), "{start}");
        }
    }

    #[test]
    fn the_matrix_has_a_row_per_scenario_with_a_change_and_links_its_sources() {
        let records = all();
        let report = build(&records);
        let with_steps = records.iter().filter(|r| !r.steps.is_empty()).count();
        assert_eq!(report.matrix.len(), with_steps);
        assert!(
            report
                .matrix
                .iter()
                .all(|r| r.cells.len() == MATRIX_COLUMNS.len())
        );
        // Every recording passes but the one of a known upstream defect.
        for row in &report.matrix {
            let wanted = if row.scenario == "hook-rollback" {
                Verdict::KnownDefect
            } else {
                Verdict::Pass
            };
            assert_eq!(row.verdict, wanted, "{}", row.scenario);
        }
        let md = render_markdown(&report);
        let row = md
            .lines()
            .find(|l| l.starts_with("| `sidecar-image`"))
            .unwrap();
        assert!(row.contains("**PASS** side in place"), "{row}");
        assert!(row.contains("side 0 -> 1, app 0 -> 0"), "{row}");
        assert!(
            row.contains("(https://github.com/openkruise/kruise/blob/v1.9.0/"),
            "{row}"
        );
        let partition = md.lines().find(|l| l.starts_with("| `partition`")).unwrap();
        assert!(partition.contains("in place"), "{partition}");
    }

    #[test]
    fn a_failing_matrix_cell_names_the_expectation() {
        let mut record = fixture("metadata-only.json");
        // As if the metadata change had restarted the container.
        let image = samples::in_place();
        record.steps[0].pods = image.steps[0].pods.clone();
        let row = matrix_row(&record);
        let restarted = &row.cells[1];
        assert_eq!(restarted.verdict, Verdict::Fail);
        assert!(
            restarted.observed.contains("expected not rebuilt"),
            "{}",
            restarted.observed
        );
        assert_eq!(row.verdict, Verdict::Fail);
    }

    /// A real recording of a cluster without the gate the scenario needs:
    /// UNSUPPORTED with the reason, never PASS, and no claim changes.
    #[test]
    fn an_unsupported_scenario_is_never_a_pass() {
        let record = fixture("unsupported/workload-resize.json");
        assert!(
            record
                .unsupported
                .as_deref()
                .unwrap()
                .contains("InPlaceWorkloadVerticalScaling")
        );
        let checks = assess::scenario_checks(&record);
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].verdict, Verdict::Unsupported);
        let report = build(std::slice::from_ref(&record));
        assert_eq!(report.matrix[0].verdict, Verdict::Unsupported);
        assert_eq!(report.scenarios[0].verdict, Verdict::Unsupported);
        let md = render_markdown(&report);
        let row = md
            .lines()
            .find(|l| l.starts_with("| `workload-resize`"))
            .unwrap();
        assert!(
            row.contains("**UNSUPPORTED** | unsupported here: kruise-manager runs without"),
            "{row}"
        );
        assert!(!row.contains("PASS"), "{row}");
        assert!(report.claims.iter().all(|c| c.verdict == Verdict::NotRun));
    }

    #[test]
    fn claims_without_a_scenario_are_not_run() {
        let md = render_markdown(&build(&[samples::in_place()]));
        let line = |id: &str| {
            md.lines()
                .find(|l| l.starts_with(&format!("| {id} |")))
                .unwrap()
                .to_string()
        };
        assert!(line("C12").contains("**NOT RUN**"));
        assert!(line("C12").contains("no scenario recorded"));
        assert!(line("C10").contains("**NOT RUN**"), "comparison claim");
        assert!(line("C13").contains("needs a run of Deployment RollingUpdate"));
        assert!(md.contains("Not run: CloneSet ReCreate, Deployment RollingUpdate."));
        assert!(line("C2").contains("**PASS**"));
        assert!(line("C2").contains("inplace-image"));
    }

    #[test]
    fn every_claim_passes_on_the_shipped_recordings() {
        let report = build(&all());
        for claim in &report.claims {
            assert_eq!(claim.verdict, Verdict::Pass, "{:?}", claim.claim);
        }
    }

    #[test]
    fn empty_observations_render_everything_not_run() {
        let report = build(&[]);
        assert!(report.claims.iter().all(|c| c.verdict == Verdict::NotRun));
        let md = render_markdown(&report);
        assert!(md.contains("every column NOT RUN"));
        assert!(md.contains("No scenario with a change recorded yet."));
    }

    #[test]
    fn failing_cells_name_the_expectation() {
        let mut record = samples::in_place();
        let read = &mut record.steps[0].pods[0].read_back;
        let disk = read
            .iter_mut()
            .find(|m| m.location == crate::model::record::MarkerLocation::DiskEmptyDir)
            .unwrap();
        disk.found = None;
        let md = render_markdown(&build(&[record]));
        let line = md.lines().find(|l| l.starts_with("| emptyDir |")).unwrap();
        assert!(
            line.contains("**FAIL** not kept (file gone); expected kept"),
            "{line}"
        );
    }

    #[test]
    fn cells_are_escaped() {
        assert_eq!(escape_cell("a|b\nc"), "a\\|b c");
    }

    #[test]
    fn the_run_folder_is_written_once_and_rendered_again_from_results() {
        let dir = std::env::temp_dir().join(format!("ipc-report-{}", crate::short_id()));
        samples::in_place().save(&dir.join("observations")).unwrap();
        std::fs::write(dir.join("observations/broken.json"), "{").unwrap();
        let context = folder::RunContext {
            run_id: "run-1".into(),
            ..Default::default()
        };
        let md = folder::write_run(&dir, &context).unwrap().1;
        let text = std::fs::read_to_string(&md).unwrap();
        assert!(text.contains("inplace-image"));
        assert!(text.contains("broken.json"), "unreadable files are listed");
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap())
                .unwrap();
        assert_eq!(json["claims"].as_array().unwrap().len(), 13);
        assert_eq!(json["matrix"].as_array().unwrap().len(), 1);
        let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
        assert!(
            junit.contains("<testcase name=\"inplace-image\""),
            "{junit}"
        );
        // results.json alone renders the same report again.
        std::fs::remove_dir_all(dir.join("observations")).unwrap();
        std::fs::remove_file(&md).unwrap();
        let again = folder::render_again(&dir).unwrap();
        assert!(
            std::fs::read_to_string(again)
                .unwrap()
                .contains("inplace-image")
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn junit_carries_expected_versus_observed_and_unsupported_is_a_failure() {
        let mut failing = samples::in_place();
        let read = &mut failing.steps[0].pods[0].read_back;
        let disk = read
            .iter_mut()
            .find(|m| m.location == crate::model::record::MarkerLocation::DiskEmptyDir)
            .unwrap();
        disk.found = None;
        let unsupported = fixture("unsupported/workload-resize.json");
        let xml = junit("run-1", &[failing, unsupported, samples::recreate()]).unwrap();
        assert!(
            xml.contains("[emptyDir] expected kept, observed not kept (file gone)"),
            "{xml}"
        );
        assert!(xml.contains("type=\"unsupported\""), "{xml}");
        assert_eq!(xml.matches("<failure").count(), 2, "{xml}");
        assert!(xml.contains("<testcase name=\"cloneset-recreate\""));
    }
}
