//! The report, rendered from recorded observations only: the seed's
//! comparison table with one observed column per strategy run, the
//! behaviour matrix (one row per scenario, every cell observed and judged
//! against its expectation, whose source is linked), the claims C1..C13
//! with their verdicts, and every scenario's checks. Markdown for people,
//! JSON for tools; both written atomically under a lock because suites
//! running in parallel re-render after each scenario.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

use crate::assess::{self, CellVerdict, Check, ClaimVerdict, Verdict};
use crate::expect::{self, Outcome, Row};
use crate::observe::{ScenarioRecord, write_atomic};

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
    pub workload: String,
    pub image_delivery: String,
    pub updates: Vec<String>,
    pub error: Option<String>,
    pub verdict: Verdict,
    pub checks: Vec<Check>,
}

/// Builds the report model from records (any order, any subset).
pub fn build(records: &[ScenarioRecord]) -> Report {
    let mut records: Vec<&ScenarioRecord> = records.iter().collect();
    records.sort_by(|a, b| a.scenario.cmp(&b.scenario));
    let column_records: Vec<&ScenarioRecord> = expect::SEED_COLUMNS
        .iter()
        .filter_map(|c| column_record(&records, c))
        .collect();
    let owned: Vec<ScenarioRecord> = records.iter().map(|r| (*r).clone()).collect();
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
        matrix: records
            .iter()
            .filter(|r| !r.steps.is_empty() || r.unsupported.is_some())
            .map(|r| matrix_row(r))
            .collect(),
        claims: assess::judge_claims(&owned),
        scenarios: records.iter().map(|r| summarize(r)).collect(),
        unreadable: Vec::new(),
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
    let cells = assess::judge_cells(record);
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
    let checks = assess::scenario_checks(record);
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
        verdict: record_verdict(record, &checks),
    }
}

/// The scenario's verdict: UNSUPPORTED, PASS or FAIL.
pub fn verdict_of(record: &ScenarioRecord) -> Verdict {
    record_verdict(record, &assess::scenario_checks(record))
}

/// UNSUPPORTED when the cluster could not run it, else PASS or FAIL.
pub fn record_verdict(record: &ScenarioRecord, checks: &[Check]) -> Verdict {
    if record.unsupported.is_some() {
        Verdict::Unsupported
    } else if assess::failures(checks).is_empty() && record.error.is_none() {
        Verdict::Pass
    } else {
        Verdict::Fail
    }
}

fn admission_note(step: &crate::observe::UpdateStep) -> String {
    match &step.admission {
        crate::observe::Admission::Accepted => step.change.description.clone(),
        crate::observe::Admission::Rejected { code, .. } => {
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

fn summarize(record: &ScenarioRecord) -> ScenarioSummary {
    let checks = assess::scenario_checks(record);
    let verdict = record_verdict(record, &checks);
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
        verdict,
        checks,
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

/// Markdown rendering of the report.
pub fn render_markdown(report: &Report) -> String {
    let mut out = String::new();
    out.push_str("# OpenKruise in-place update: conformance report\n\n");
    out.push_str(&format!(
        "Generated {} from {} recorded scenario(s). Every value below was observed on a real \
         cluster; expectations are in `src/expect.rs`, each with its source in OpenKruise \
         ({}).\n\n",
        report.generated_at,
        report.scenarios.len(),
        expect::kruise_source_root()
    ));
    if !report.unreadable.is_empty() {
        out.push_str(&format!(
            "Unreadable observation files (ignored): {}\n\n",
            report.unreadable.join(", ")
        ));
    }
    render_comparison(report, &mut out);
    render_matrix(report, &mut out);
    render_claims(report, &mut out);
    render_races(report, &mut out);
    render_scenarios(report, &mut out);
    out
}

/// Each check that met a known race: (scenario, check, the race).
pub fn races_met(report: &Report) -> Vec<(&str, &str, &'static crate::races::Race)> {
    let mut met = Vec::new();
    for s in &report.scenarios {
        for c in &s.checks {
            for race in c.races.iter().filter_map(|r| crate::races::named(r)) {
                met.push((s.scenario.as_str(), c.name.as_str(), race));
            }
        }
    }
    met
}

/// Known races do not change a verdict; this section is where they are
/// told, each with its cause and what was judged instead.
fn render_races(report: &Report, out: &mut String) {
    out.push_str(
        "## Known races met

",
    );
    let met = races_met(report);
    if met.is_empty() {
        out.push_str("None of the known races (`src/races.rs`) showed in this run.\n\n");
        return;
    }
    push_row(
        out,
        &[
            "scenario".into(),
            "check".into(),
            "race".into(),
            "what happened".into(),
            "judged instead".into(),
        ],
    );
    push_row(out, &vec!["---".to_string(); 5]);
    for (scenario, check, race) in &met {
        push_row(
            out,
            &[
                scenario.to_string(),
                check.to_string(),
                format!("[{}]({})", race.name, race.upstream),
                race.symptom.into(),
                race.judged_by.into(),
            ],
        );
    }
    out.push('\n');
    let mut causes: Vec<&crate::races::Race> = met.iter().map(|(_, _, r)| *r).collect();
    causes.sort_by_key(|r| r.name);
    causes.dedup_by_key(|r| r.name);
    for race in causes {
        out.push_str(&format!("- `{}`: {}\n", race.name, race.cause));
    }
    out.push('\n');
}

fn render_comparison(report: &Report, out: &mut String) {
    out.push_str("## What survives an update (the seed's comparison table, observed)\n\n");
    if report.columns.is_empty() {
        out.push_str("No single-update scenario recorded yet: every column NOT RUN.\n\n");
    }
    let mut header = vec![
        "property".to_string(),
        "seed: standard rolling update".into(),
        "seed: OpenKruise in-place".into(),
    ];
    header.extend(
        report
            .columns
            .iter()
            .map(|c| format!("{} (`{}`)", c.label, c.scenario)),
    );
    push_row(out, &header);
    push_row(out, &vec!["---".to_string(); header.len()]);
    for row in &report.comparison {
        let mut cells = vec![
            row.label.clone(),
            row.seed_standard_rolling.clone(),
            row.seed_openkruise_in_place.clone(),
        ];
        cells.extend(row.cells.iter().map(render_cell));
        push_row(out, &cells);
    }
    out.push_str(
        "\nEach observed cell: verdict against that strategy's expectation, the observed \
         outcome, and the facts behind it.\n",
    );
    let not_run: Vec<&str> = expect::SEED_COLUMNS
        .iter()
        .copied()
        .filter(|s| !report.columns.iter().any(|c| c.label == *s))
        .collect();
    if !not_run.is_empty() {
        out.push_str(&format!("Not run: {}.\n", not_run.join(", ")));
    }
    out.push('\n');
}

fn render_cell(cell: &Cell) -> String {
    let mut text = format!(
        "**{}** {} ({})",
        cell.verdict.label(),
        cell.observed.label(),
        cell.detail
    );
    if cell.verdict != Verdict::Pass {
        text.push_str(&format!("; expected {}", cell.expected.label()));
    }
    text
}

fn render_matrix(report: &Report, out: &mut String) {
    out.push_str("## Behaviour matrix (one row per scenario, every cell observed)\n\n");
    if report.matrix.is_empty() {
        out.push_str("No scenario with a change recorded yet.\n\n");
        return;
    }
    let mut header = vec!["scenario".to_string(), "workload, change".into()];
    header.extend(MATRIX_COLUMNS.iter().map(|c| c.to_string()));
    header.push("expectation source".into());
    push_row(out, &header);
    push_row(out, &vec!["---".to_string(); header.len()]);
    for row in &report.matrix {
        let mut cells = vec![
            format!("`{}` **{}**", row.scenario, row.verdict.label()),
            format!("{}: {}", row.key, row.changes.join("; then ")),
        ];
        if let Some(reason) = &row.unsupported {
            cells[1] = format!("unsupported here: {reason}");
        }
        cells.extend(
            row.cells
                .iter()
                .map(|c| format!("**{}** {}", c.verdict.label(), c.observed)),
        );
        cells.push(
            row.sources
                .iter()
                .map(|(title, url)| format!("[{title}]({url})"))
                .collect::<Vec<_>>()
                .join("<br>"),
        );
        push_row(out, &cells);
    }
    out.push_str(
        "\nEach cell: verdict against the expectation of the scenario's (workload, strategy, \
         change), then what was observed (per step `#n`, per pod and container where they \
         differ). Pods a partition or a refusal holds back are judged as untouched.\n\n",
    );
}

fn render_claims(report: &Report, out: &mut String) {
    out.push_str("## Claims of the seed\n\n");
    push_row(
        out,
        &[
            "claim".into(),
            "statement".into(),
            "checked by".into(),
            "verdict".into(),
            "evidence".into(),
        ],
    );
    push_row(out, &vec!["---".to_string(); 5]);
    for claim in &report.claims {
        let checked_by = if claim.scenarios.is_empty() {
            "-".to_string()
        } else {
            claim.scenarios.join(", ")
        };
        let mut evidence: Vec<String> = claim.missing.iter().cloned().collect();
        if claim.evidence.is_empty() {
            evidence.push("no scenario recorded".into());
        }
        evidence.extend(claim.evidence.iter().cloned());
        let evidence = evidence.join("<br>");
        push_row(
            out,
            &[
                claim.claim.id(),
                claim.summary.clone(),
                checked_by,
                format!("**{}**", claim.verdict.label()),
                evidence,
            ],
        );
    }
    out.push('\n');
}

fn render_scenarios(report: &Report, out: &mut String) {
    out.push_str("## Scenarios\n\n");
    for s in &report.scenarios {
        out.push_str(&format!("### {}: {}\n\n", s.scenario, s.verdict.label()));
        out.push_str(&format!(
            "- {}\n- {}\n- namespace `{}`, {} .. {}\n- {}\n- images: {}\n",
            s.summary,
            s.workload,
            s.namespace,
            s.started_at,
            s.finished_at,
            s.cluster,
            s.image_delivery
        ));
        for update in &s.updates {
            out.push_str(&format!("- change {update}\n"));
        }
        if let Some(error) = &s.error {
            out.push_str(&format!("- **stopped early**: {}\n", one_line(error)));
        }
        out.push('\n');
        push_row(
            out,
            &[
                "check".into(),
                "claims".into(),
                "expected".into(),
                "observed".into(),
                "verdict".into(),
            ],
        );
        push_row(out, &vec!["---".to_string(); 5]);
        for c in &s.checks {
            let claims: Vec<String> = c.claims.iter().map(|c| c.id()).collect();
            push_row(
                out,
                &[
                    c.name.clone(),
                    claims.join(" "),
                    c.expected.clone(),
                    c.observed.clone(),
                    format!("**{}**", c.verdict.label()),
                ],
            );
        }
        out.push('\n');
    }
}

fn push_row(out: &mut String, cells: &[String]) {
    let cells: Vec<String> = cells.iter().map(|c| escape_cell(c)).collect();
    out.push_str(&format!("| {} |\n", cells.join(" | ")));
}

/// A table cell must stay on one line and must not close the cell early.
pub fn escape_cell(text: &str) -> String {
    one_line(text).replace('|', "\\|")
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
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
pub const RESULTS_SCHEMA: u32 = 2;

/// `results.json`: everything a run observed, with what it ran against; a
/// report can be rendered again from it alone.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Results {
    pub schema: u32,
    pub run_id: String,
    pub generated_at: String,
    /// Each distinct cluster the records name (one per cell of a matrix).
    pub clusters: Vec<crate::observe::ClusterFacts>,
    /// The cells of a qualification run (empty for `run` and `cargo test`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cells: Vec<crate::qualify::CellSummary>,
    /// The gate policy a qualification run was decided with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<crate::gate::Policy>,
    pub records: Vec<ScenarioRecord>,
}

pub fn results(run_id: &str, records: &[ScenarioRecord]) -> Results {
    let mut clusters: Vec<crate::observe::ClusterFacts> = Vec::new();
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
        records: records.to_vec(),
    }
}

/// `junit.xml`: one test case per scenario (per cluster), a failure
/// carrying every failed check as expected versus observed; an unsupported
/// scenario is a failure of type `unsupported`, never a pass.
pub fn junit(run_id: &str, records: &[ScenarioRecord]) -> anyhow::Result<String> {
    use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
    let mut report = quick_junit::Report::new(format!("inplace-conformance {run_id}"));
    let mut suites: Vec<(String, TestSuite)> = Vec::new();
    for record in records {
        let cell = if !record.cluster.cell.is_empty() {
            record.cluster.cell.clone()
        } else if record.cluster.name.is_empty() {
            "cluster".to_string()
        } else {
            record.cluster.name.clone()
        };
        let checks = assess::scenario_checks(record);
        let status = match record_verdict(record, &checks) {
            Verdict::Pass => TestCaseStatus::success(),
            verdict => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                let failed: Vec<String> = checks
                    .iter()
                    .filter(|c| matches!(c.verdict, Verdict::Fail | Verdict::Unsupported))
                    .map(|c| {
                        format!(
                            "[{}] expected {}, observed {}",
                            c.name, c.expected, c.observed
                        )
                    })
                    .chain(record.error.iter().map(|e| format!("stopped early: {e}")))
                    .collect();
                status.set_type(if verdict == Verdict::Unsupported {
                    "unsupported"
                } else {
                    "failed"
                });
                status.set_message(failed.first().cloned().unwrap_or_default());
                status.set_description(failed.join("\n"));
                status
            }
        };
        let mut case = TestCase::new(record.scenario.clone(), status);
        case.set_classname(format!("{cell}.{}", record.workload.kind.replace(' ', "")));
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

/// Re-renders `report.md` and `report.json` in `output_dir` from its
/// observations; returns the path of report.md.
pub fn render_dir(output_dir: &Path) -> anyhow::Result<PathBuf> {
    let locks = output_dir.join("locks");
    std::fs::create_dir_all(&locks).with_context(|| format!("creating {}", locks.display()))?;
    let lock = std::fs::File::create(locks.join("report.lock"))?;
    // Read-render-write under one lock: a renderer that read the directory
    // earlier must not overwrite a newer report.
    lock.lock().context("locking the report")?;
    let (records, unreadable) = load_records(output_dir)?;
    let mut report = build(&records);
    report.unreadable = unreadable;
    let md = write_reports(output_dir, &records, report)?;
    drop(lock);
    Ok(md)
}

/// report.md, report.html, report.json, results.json and junit.xml of a
/// run folder.
fn write_reports(
    output_dir: &Path,
    records: &[ScenarioRecord],
    report: Report,
) -> anyhow::Result<PathBuf> {
    let run_id = output_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let md = output_dir.join("report.md");
    let markdown = render_markdown(&report);
    write_atomic(&md, markdown.as_bytes())?;
    let chart = crate::html::latency_svg(&crate::html::image_update_latency(records)).ok();
    write_atomic(
        &output_dir.join("report.html"),
        crate::html::page(
            &format!("inplace-conformance {run_id}"),
            &markdown,
            chart.as_deref(),
        )
        .as_bytes(),
    )?;
    write_atomic(
        &output_dir.join("report.json"),
        serde_json::to_string_pretty(&report)?.as_bytes(),
    )?;
    write_atomic(
        &output_dir.join("results.json"),
        serde_json::to_string_pretty(&results(&run_id, records))?.as_bytes(),
    )?;
    write_atomic(
        &output_dir.join("junit.xml"),
        junit(&run_id, records)?.as_bytes(),
    )?;
    Ok(md)
}

/// Renders a run folder again from its `results.json` alone (the records
/// folder may be gone, or the run may come from another machine).
pub fn render_from_results(run_dir: &Path) -> anyhow::Result<PathBuf> {
    let path = run_dir.join("results.json");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let schema = serde_json::from_str::<serde_json::Value>(&text)
        .with_context(|| format!("parsing {}", path.display()))?["schema"]
        .as_u64();
    anyhow::ensure!(
        matches!(schema, Some(1..=2)),
        "{} has schema {schema:?}, this build reads {RESULTS_SCHEMA}",
        path.display()
    );
    let results: Results =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    if !results.cells.is_empty() {
        // A qualification run: the combined report, under the policy it
        // was gated with.
        let decision = crate::gate::decide(
            &results.policy.clone().unwrap_or_default(),
            &results
                .cells
                .iter()
                .map(|c| (c.name.clone(), c.scenarios.clone()))
                .collect::<Vec<_>>(),
            &results.records,
        );
        let combined = crate::crosscell::Combined {
            run_id: results.run_id.clone(),
            cells: results.cells.clone(),
            records: results.records.clone(),
            policy: results.policy.clone().unwrap_or_default(),
            decision,
        };
        return crate::crosscell::write(run_dir, &combined);
    }
    write_reports(run_dir, &results.records, build(&results.records))
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator;

    use super::*;
    use crate::observe::samples::{self, fixture};

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
        assert!(calm.contains("None of the known races (`src/races.rs`) showed in this run."));
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
        assert!(report.matrix.iter().all(|r| r.verdict == Verdict::Pass));
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
            .find(|m| m.location == crate::observe::MarkerLocation::DiskEmptyDir)
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
    fn render_dir_writes_both_files_atomically() {
        let dir = std::env::temp_dir().join(format!("ipc-report-{}", crate::short_id()));
        samples::in_place().save(&dir.join("observations")).unwrap();
        std::fs::write(dir.join("observations/broken.json"), "{").unwrap();
        let md = render_dir(&dir).unwrap();
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
        let again = render_from_results(&dir).unwrap();
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
            .find(|m| m.location == crate::observe::MarkerLocation::DiskEmptyDir)
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
