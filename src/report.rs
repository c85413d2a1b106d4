//! The report, rendered from recorded observations only: the seed's
//! comparison table with one observed column per strategy run, the claims
//! C1..C13 with their verdicts, and every scenario's checks. Markdown for
//! people, JSON for tools; both written atomically under a lock because
//! suites running in parallel re-render after each scenario.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

use crate::assess::{self, Check, ClaimVerdict, Verdict};
use crate::expect::{self, Outcome, Row};
use crate::observe::{ScenarioRecord, Strategy, write_atomic};

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub generated_at: String,
    pub columns: Vec<Column>,
    pub comparison: Vec<ComparisonRow>,
    pub claims: Vec<ClaimVerdict>,
    pub scenarios: Vec<ScenarioSummary>,
    /// Observation files that could not be read (listed, not fatal).
    pub unreadable: Vec<String>,
}

/// A strategy that was run, and the recording its column shows.
#[derive(Debug, Clone, Serialize)]
pub struct Column {
    pub strategy: Strategy,
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

#[derive(Debug, Clone, Serialize)]
pub struct ScenarioSummary {
    pub scenario: String,
    pub strategy: Strategy,
    pub namespace: String,
    pub started_at: String,
    pub finished_at: String,
    pub cluster: String,
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
    let column_records: Vec<&ScenarioRecord> = Strategy::ALL
        .into_iter()
        .filter_map(|s| column_record(&records, s))
        .collect();
    let owned: Vec<ScenarioRecord> = records.iter().map(|r| (*r).clone()).collect();
    Report {
        generated_at: crate::now_rfc3339(),
        columns: column_records
            .iter()
            .map(|r| Column {
                strategy: r.strategy,
                label: r.strategy.label().into(),
                scenario: r.scenario.clone(),
            })
            .collect(),
        comparison: comparison_rows(&column_records),
        claims: assess::judge_claims(&owned),
        scenarios: records.iter().map(|r| summarize(r)).collect(),
        unreadable: Vec::new(),
    }
}

/// The single-update recording of a strategy (the successive and the
/// throughput scenarios have other step counts); the latest if several.
fn column_record<'a>(
    records: &[&'a ScenarioRecord],
    strategy: Strategy,
) -> Option<&'a ScenarioRecord> {
    records
        .iter()
        .filter(|r| r.strategy == strategy && r.steps.len() == 1)
        .max_by(|a, b| a.finished_at.cmp(&b.finished_at))
        .copied()
}

fn comparison_rows(columns: &[&ScenarioRecord]) -> Vec<ComparisonRow> {
    let judged: Vec<Vec<assess::RowVerdict>> = columns
        .iter()
        .map(|r| assess::judge_rows(r, expect::for_strategy(r.strategy)))
        .collect();
    Row::ALL
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            let seed = expect::seed_row(row);
            ComparisonRow {
                row,
                label: row.label().into(),
                seed_standard_rolling: seed.standard_rolling.into(),
                seed_openkruise_in_place: seed.openkruise_in_place.into(),
                cells: judged
                    .iter()
                    .map(|column| {
                        let v = &column[i];
                        Cell {
                            expected: v.expected,
                            observed: v.observed,
                            detail: v.detail.clone(),
                            verdict: v.verdict,
                        }
                    })
                    .collect(),
            }
        })
        .collect()
}

fn summarize(record: &ScenarioRecord) -> ScenarioSummary {
    let checks = assess::scenario_checks(record);
    let verdict = if assess::failures(&checks).is_empty() {
        Verdict::Pass
    } else {
        Verdict::Fail
    };
    ScenarioSummary {
        scenario: record.scenario.clone(),
        strategy: record.strategy,
        namespace: record.namespace.clone(),
        started_at: record.started_at.clone(),
        finished_at: record.finished_at.clone(),
        cluster: format!(
            "Kubernetes {}, {}{}",
            or_unknown(&record.cluster.server_version),
            record
                .cluster
                .kruise_image
                .as_deref()
                .unwrap_or("kruise image unknown"),
            // Only CloneSet scenarios record the CloneSet API version used.
            record
                .cluster
                .cloneset_api_version
                .as_deref()
                .map(|v| format!(", CloneSet {v}"))
                .unwrap_or_default()
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
                    "#{} {} -> {} in {:.1}s",
                    s.index + 1,
                    s.from.reference,
                    s.to.reference,
                    s.duration_ms as f64 / 1000.0
                )
            })
            .collect(),
        error: record.error.clone(),
        verdict,
        checks,
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
         cluster; expectations are in `src/expect.rs`.\n\n",
        report.generated_at,
        report.scenarios.len()
    ));
    if !report.unreadable.is_empty() {
        out.push_str(&format!(
            "Unreadable observation files (ignored): {}\n\n",
            report.unreadable.join(", ")
        ));
    }
    render_comparison(report, &mut out);
    render_claims(report, &mut out);
    render_scenarios(report, &mut out);
    out
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
    let not_run: Vec<&str> = Strategy::ALL
        .into_iter()
        .filter(|s| !report.columns.iter().any(|c| c.strategy == *s))
        .map(|s| s.label())
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
                claim.claim.id().into(),
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
        out.push_str(&format!(
            "### {} ({}): {}\n\n",
            s.scenario,
            s.strategy.label(),
            s.verdict.label()
        ));
        out.push_str(&format!(
            "- namespace `{}`, {} .. {}\n- {}\n- images: {}\n",
            s.namespace, s.started_at, s.finished_at, s.cluster, s.image_delivery
        ));
        for update in &s.updates {
            out.push_str(&format!("- update {update}\n"));
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
            let claims: Vec<&str> = c.claims.iter().map(|c| c.id()).collect();
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
    let md = output_dir.join("report.md");
    write_atomic(&md, render_markdown(&report).as_bytes())?;
    write_atomic(
        &output_dir.join("report.json"),
        serde_json::to_string_pretty(&report)?.as_bytes(),
    )?;
    drop(lock);
    Ok(md)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::samples;

    fn both() -> Vec<ScenarioRecord> {
        vec![samples::recreate(), samples::in_place()]
    }

    #[test]
    fn columns_follow_strategy_order_and_only_strategies_run() {
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
        for row in Row::ALL {
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
        let in_place = &samples::in_place().steps[0].after;
        let recreate = &samples::recreate().steps[0];
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
        let md = render_markdown(&build(&both()));
        let table: Vec<&str> = md
            .lines()
            .skip_while(|l| !l.starts_with("| property"))
            .take_while(|l| l.starts_with('|'))
            .collect();
        assert_eq!(table.len(), 2 + Row::ALL.len());
        let cells = |l: &str| l.matches(" | ").count();
        assert!(table.iter().all(|l| cells(l) == cells(table[0])));
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
    fn empty_observations_render_everything_not_run() {
        let report = build(&[]);
        assert!(report.claims.iter().all(|c| c.verdict == Verdict::NotRun));
        let md = render_markdown(&report);
        assert!(md.contains("every column NOT RUN"));
    }

    #[test]
    fn failing_cells_name_the_expectation() {
        let mut record = samples::in_place();
        record.steps[0].read_back[1].found = None; // disk emptyDir lost
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
        std::fs::remove_dir_all(dir).unwrap();
    }
}
