//! A qualification run's combined report: every cell's records in one
//! `results.json`, one `junit.xml`, the gate's decision, and a report whose
//! top is the cross-cell table (one row per scenario, one column per cell)
//! with the differences between cells listed as findings, followed by each
//! cell's own seed table, behaviour matrix and claims.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::judge::assess::Verdict;
use crate::judge::gate::{Class, Decision, Policy};
use crate::model::cell::CellSummary;
use crate::model::record::ScenarioRecord;
use crate::report::{self, MATRIX_COLUMNS};

/// Everything the combined report is made from.
pub struct Combined {
    pub run_id: String,
    pub cells: Vec<CellSummary>,
    pub records: Vec<ScenarioRecord>,
    pub policy: Policy,
    pub decision: Decision,
}

/// Reads each cell folder's records (its results.json, else its
/// observations) and decides the gate over what each cell was to run.
pub fn combine(
    run_id: &str,
    cells: &[(PathBuf, CellSummary)],
    policy: &Policy,
) -> anyhow::Result<Combined> {
    let mut records = Vec::new();
    for (dir, summary) in cells {
        let mut cell_records = report::folder_records(dir)?;
        for record in &mut cell_records {
            // The cell is the folder's, whatever an older record says.
            record.cluster.cell = summary.name.clone();
        }
        records.extend(cell_records);
    }
    let expected: Vec<(String, Vec<String>)> = cells
        .iter()
        .map(|(_, s)| (s.name.clone(), s.scenarios.clone()))
        .collect();
    let decision = crate::judge::gate::decide(policy, &expected, &records);
    Ok(Combined {
        run_id: run_id.to_string(),
        cells: cells.iter().map(|(_, s)| s.clone()).collect(),
        records,
        policy: policy.clone(),
        decision,
    })
}

/// Writes results.json, junit.xml, gate.json, report.md and report.html
/// into `out`; returns the path of report.md.
pub fn write(out: &Path, combined: &Combined) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut results = report::results(&combined.run_id, &combined.records);
    results.cells = combined.cells.clone();
    results.policy = Some(combined.policy.clone());
    let write =
        |name: &str, bytes: &[u8]| crate::model::record::write_atomic(&out.join(name), bytes);
    write(
        "results.json",
        serde_json::to_string_pretty(&results)?.as_bytes(),
    )?;
    write(
        "junit.xml",
        report::junit(&combined.run_id, &combined.records)?.as_bytes(),
    )?;
    write(
        "gate.json",
        serde_json::to_string_pretty(&combined.decision)?.as_bytes(),
    )?;
    let markdown = markdown(combined);
    write("report.md", markdown.as_bytes())?;
    let latency = crate::report::html::image_update_latency(&combined.records);
    let charts: Vec<(&str, String)> = crate::report::html::latency_svg(&latency)
        .ok()
        .map(|svg| ("Image update latency", svg))
        .into_iter()
        .collect();
    let title = format!("inplace-conformance qualification {}", combined.run_id);
    write(
        "report.html",
        crate::report::html::page(&title, &markdown, &charts).as_bytes(),
    )?;
    Ok(out.join("report.md"))
}

pub fn markdown(combined: &Combined) -> String {
    let mut out = String::new();
    out.push_str("# OpenKruise in-place update: qualification report\n\n");
    let verdict = if combined.decision.passed {
        "**PASS**"
    } else {
        "**FAIL**"
    };
    let infrastructure: Vec<String> = combined
        .cells
        .iter()
        .filter_map(|c| {
            c.infrastructure_error
                .as_ref()
                .map(|e| format!("{}: {e}", c.name))
        })
        .collect();
    out.push_str(&format!(
        "Run `{}`: {} cell(s), {} recorded scenario(s). Gate: {verdict}.\n\n",
        combined.run_id,
        combined.cells.len(),
        combined.records.len()
    ));
    for line in combined.decision.blocking() {
        out.push_str(&format!("- blocks the gate: {line}\n"));
    }
    for line in &infrastructure {
        out.push_str(&format!("- infrastructure failure: {}\n", one_line(line)));
    }
    out.push('\n');
    cross_cell_table(combined, &mut out);
    findings(combined, &mut out);
    for cell in &combined.cells {
        let records: Vec<ScenarioRecord> = combined
            .records
            .iter()
            .filter(|r| r.cluster.cell == cell.name)
            .cloned()
            .collect();
        out.push_str(&format!(
            "\n## Cell {}: Kubernetes {}, OpenKruise {}, runtime {}, topology {}, profile {}\n\n",
            cell.name,
            cell.kubernetes,
            cell.openkruise,
            or_dash(&cell.runtime),
            or_dash(&cell.topology),
            cell.profile
        ));
        let body = report::render_markdown(&report::build(&records));
        // The cell's report without its own title, one heading level down.
        for line in body.lines().skip_while(|l| !l.starts_with("## ")) {
            if line.starts_with('#') {
                out.push('#');
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn cross_cell_table(combined: &Combined, out: &mut String) {
    out.push_str("## Cross-cell table\n\n");
    out.push_str(
        "Each scenario's verdict per cell, with the first update's latency (change applied to \
         update complete). Required scenarios gate the release; informational ones are reported \
         only.\n\n",
    );
    let cells = &combined.cells;
    let mut header = vec!["scenario".to_string(), "gate".to_string()];
    header.extend(cells.iter().map(|c| format!("`{}`", c.name)));
    push_row(out, &header);
    push_row(out, &vec!["---".to_string(); header.len()]);
    type Fact = fn(&CellSummary) -> String;
    let facts: [(&str, Fact); 6] = [
        ("Kubernetes", |c| c.kubernetes.clone()),
        ("OpenKruise", |c| c.openkruise.clone()),
        ("runtime", |c| c.runtime.clone()),
        ("topology", |c| c.topology.clone()),
        ("wall time", |c| {
            format!("{:.0} s (build {:.0} s)", c.wall_seconds, c.build_seconds)
        }),
        ("cell status", |c| match &c.infrastructure_error {
            None => "ran".into(),
            Some(e) => format!("**INFRASTRUCTURE** {}", one_line(e)),
        }),
    ];
    for (label, fact) in facts {
        let mut row = vec![format!("*{label}*"), String::new()];
        row.extend(cells.iter().map(fact));
        push_row(out, &row);
    }
    let mut row = vec!["*obtained on*".to_string(), String::new()];
    row.extend(cells.iter().map(|c| observed_platforms(combined, &c.name)));
    push_row(out, &row);
    let upgrades: Vec<Option<String>> = cells
        .iter()
        .map(|c| upgrade_fact(combined, &c.name))
        .collect();
    if upgrades.iter().any(Option::is_some) {
        let mut row = vec!["*OpenKruise upgrade*".to_string(), String::new()];
        row.extend(
            upgrades
                .into_iter()
                .map(|u| u.unwrap_or_else(|| "-".into())),
        );
        push_row(out, &row);
    }
    for scenario in scenario_names(combined) {
        let class = combined
            .decision
            .entries
            .iter()
            .find(|e| e.scenario == scenario)
            .map(|e| e.class)
            .unwrap_or_default();
        let mut row = vec![
            format!("`{scenario}`"),
            match class {
                Class::Required => "required".into(),
                Class::Informational => "informational".into(),
            },
        ];
        for cell in cells {
            row.push(match record_in(combined, &cell.name, &scenario) {
                None => "not run".into(),
                Some(record) => {
                    let latency = record
                        .steps
                        .first()
                        .filter(|s| s.duration_ms > 0)
                        .map(|s| format!(" {:.1} s", s.duration_ms as f64 / 1000.0))
                        .unwrap_or_default();
                    format!(
                        "{}{latency}",
                        verdict_text(crate::judge::assess::verdict_of(record))
                    )
                }
            });
        }
        push_row(out, &row);
    }
    out.push('\n');
}

/// Every difference between cells: a scenario's verdict, or one column of
/// its behaviour-matrix row, that is not the same in every cell.
pub fn differences(combined: &Combined) -> Vec<String> {
    let mut found = Vec::new();
    if combined.cells.len() < 2 {
        return found;
    }
    for scenario in scenario_names(combined) {
        let per_cell: Vec<(&str, Option<&ScenarioRecord>)> = combined
            .cells
            .iter()
            .map(|c| (c.name.as_str(), record_in(combined, &c.name, &scenario)))
            .collect();
        let verdicts: Vec<(&str, String)> = per_cell
            .iter()
            .map(|(cell, r)| {
                let text = r
                    .map(|r| verdict_text(crate::judge::assess::verdict_of(r)))
                    .unwrap_or_else(|| "not run".into());
                (*cell, text)
            })
            .collect();
        if let Some(line) = differing(&verdicts) {
            found.push(format!(
                "`{scenario}` verdict: {line}{}",
                causes(per_cell.iter().filter_map(|(_, r)| *r))
            ));
            continue;
        }
        for (i, column) in MATRIX_COLUMNS.iter().enumerate() {
            let column_verdicts: Vec<(&str, String)> = per_cell
                .iter()
                .filter_map(|(cell, r)| {
                    let row = report::matrix_row(r.as_ref()?);
                    Some((*cell, verdict_text(row.cells.get(i)?.verdict)))
                })
                .collect();
            if let Some(line) = differing(&column_verdicts) {
                found.push(format!("`{scenario}` {column}: {line}"));
            }
        }
    }
    found
}

/// What the records say of why a verdict differs: the reasons given for
/// UNSUPPORTED (a cell too small for the fixture, a gate off), the first
/// failed check, and the known races met, each once.
fn causes<'a>(records: impl Iterator<Item = &'a ScenarioRecord>) -> String {
    let mut causes: Vec<String> = Vec::new();
    for record in records {
        let judged = crate::judge::judged::Judged::of(record.clone());
        let cause = match judged.verdict {
            Verdict::Unsupported => record.unsupported.as_deref().map(|why| {
                format!(
                    "UNSUPPORTED because {}",
                    why.split("; hint").next().unwrap_or(why)
                )
            }),
            Verdict::Fail => judged
                .checks
                .iter()
                .find(|c| c.verdict == Verdict::Fail)
                .map(|c| format!("FAIL: {}, observed {}", c.name, one_line(&c.observed)))
                .or_else(|| {
                    record
                        .error
                        .as_deref()
                        .map(|e| format!("FAIL: {}", one_line(e)))
                }),
            _ => None,
        };
        let races = judged.checks.iter().flat_map(|c| c.races.clone());
        for cause in cause
            .into_iter()
            .chain(races.map(|r| format!("known race {r}")))
        {
            if !causes.contains(&cause) {
                causes.push(cause);
            }
        }
    }
    if causes.is_empty() {
        String::new()
    } else {
        format!(" ({})", causes.join("; "))
    }
}

fn findings(combined: &Combined, out: &mut String) {
    if combined.cells.len() < 2 {
        return;
    }
    out.push_str("## Differences between cells\n\n");
    let found = differences(combined);
    if found.is_empty() {
        out.push_str(
            "None: every scenario has the same verdict, column by column, in every cell.\n",
        );
    }
    for line in found {
        out.push_str(&format!("- {line}\n"));
    }
    out.push('\n');
}

/// `None` when every cell says the same; else "A on x, y; B on z".
fn differing(values: &[(&str, String)]) -> Option<String> {
    let first = &values.first()?.1;
    if values.iter().all(|(_, v)| v == first) {
        return None;
    }
    let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
    for (cell, value) in values {
        match groups.iter_mut().find(|(v, _)| v == value) {
            Some((_, cells)) => cells.push(cell),
            None => groups.push((value.clone(), vec![cell])),
        }
    }
    Some(
        groups
            .into_iter()
            .map(|(v, cells)| format!("{v} on {}", cells.join(", ")))
            .collect::<Vec<_>>()
            .join("; "),
    )
}

fn scenario_names(combined: &Combined) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let planned = combined.cells.iter().flat_map(|c| c.scenarios.iter());
    for name in planned.chain(combined.records.iter().map(|r| &r.scenario)) {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}

fn record_in<'a>(combined: &'a Combined, cell: &str, scenario: &str) -> Option<&'a ScenarioRecord> {
    combined
        .records
        .iter()
        .rfind(|r| r.cluster.cell == cell && r.scenario == scenario)
}

/// What the cell's records say they ran on (runtime as the kubelets
/// report it, cgroup version as the containers saw it, nodes), distinct.
fn observed_platforms(combined: &Combined, cell: &str) -> String {
    let platforms: std::collections::BTreeSet<String> = combined
        .records
        .iter()
        .filter(|r| r.cluster.cell == cell)
        .filter_map(crate::judge::platform::obtained_on)
        .map(|p| p.cluster_side())
        .collect();
    if platforms.is_empty() {
        return "-".into();
    }
    platforms.into_iter().collect::<Vec<_>>().join("; ")
}

fn or_dash(text: &str) -> &str {
    if text.is_empty() { "-" } else { text }
}

fn verdict_text(verdict: Verdict) -> String {
    format!("**{}**", verdict.label())
}

/// The OpenKruise upgrade a cell's scenarios went through, as a row of its
/// own: from -> to, how long, the webhooks before and after; or why it
/// did not happen.
fn upgrade_fact(combined: &Combined, cell: &str) -> Option<String> {
    let records: Vec<&ScenarioRecord> = combined
        .records
        .iter()
        .filter(|r| r.cluster.cell == cell)
        .collect();
    if let Some(u) = records
        .iter()
        .find_map(|r| r.faults.iter().find_map(|f| f.upgrade.as_ref()))
    {
        return Some(format!(
            "{} -> {} in {:.0} s; webhooks {} -> {}; {} change(s) in a minute",
            u.from,
            u.installed_after,
            u.upgrade_ms as f64 / 1000.0,
            u.webhooks_before.len(),
            u.webhooks_after.len(),
            u.changes.len() + u.events.len()
        ));
    }
    records
        .iter()
        .find_map(|r| {
            r.error
                .as_deref()
                .filter(|e| e.contains("upgrading OpenKruise"))
        })
        .map(|e| format!("**refused**: {}", one_line(e)))
}

fn push_row(out: &mut String, cells: &[String]) {
    let cells: Vec<String> = cells.iter().map(|c| report::escape_cell(c)).collect();
    out.push_str(&format!("| {} |\n", cells.join(" | ")));
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::record::samples;

    fn summary(name: &str, scenarios: &[&str]) -> CellSummary {
        CellSummary {
            name: name.into(),
            kubernetes: "v1.34.4".into(),
            openkruise: "v1.9.0".into(),
            profile: "default".into(),
            runtime: "containerd-1.6".into(),
            topology: "single-node".into(),
            cluster: "ipc-q-x".into(),
            started_at: String::new(),
            wall_seconds: 60.0,
            build_seconds: 0.0,
            scenarios: scenarios.iter().map(|s| s.to_string()).collect(),
            infrastructure_error: None,
        }
    }

    fn combined(records: Vec<ScenarioRecord>) -> Combined {
        let cells = vec![
            summary("a", &["inplace-image", "cloneset-recreate"]),
            summary("b", &["inplace-image", "cloneset-recreate"]),
        ];
        let expected: Vec<(String, Vec<String>)> = cells
            .iter()
            .map(|c| (c.name.clone(), c.scenarios.clone()))
            .collect();
        let decision = crate::judge::gate::decide(&Policy::all_required(), &expected, &records);
        Combined {
            run_id: "r".into(),
            cells,
            records,
            policy: Policy::all_required(),
            decision,
        }
    }

    fn in_cell(mut record: ScenarioRecord, cell: &str) -> ScenarioRecord {
        record.cluster.cell = cell.into();
        record
    }

    #[test]
    fn the_same_verdicts_everywhere_show_no_difference() {
        let records = ["a", "b"]
            .iter()
            .flat_map(|c| {
                [
                    in_cell(samples::in_place(), c),
                    in_cell(samples::recreate(), c),
                ]
            })
            .collect();
        let combined = combined(records);
        assert!(combined.decision.passed);
        assert!(differences(&combined).is_empty());
        let md = markdown(&combined);
        assert!(md.contains("## Cross-cell table"));
        assert!(md.contains("\n## Cell a: Kubernetes v1.34.4"));
        assert!(md.contains("### What survives an update"), "{md}");
    }

    #[test]
    fn a_verdict_that_differs_is_a_finding_and_blocks_the_gate() {
        let mut broken = in_cell(samples::in_place(), "b");
        broken.error = Some("stopped early".into());
        let records = vec![
            in_cell(samples::in_place(), "a"),
            broken,
            in_cell(samples::recreate(), "a"),
        ];
        let combined = combined(records);
        let found = differences(&combined);
        // With its cause, from the record.
        assert_eq!(
            found[0],
            "`inplace-image` verdict: **PASS** on a; **FAIL** on b (FAIL: scenario completed, \
             observed stopped after 1 step(s): stopped early)"
        );
        assert_eq!(
            found[1],
            "`cloneset-recreate` verdict: **PASS** on a; not run on b"
        );
        assert!(!combined.decision.passed);
    }

    #[test]
    fn combined_output_is_written_and_the_html_has_the_chart() {
        let out = std::env::temp_dir().join(format!("ipc-merge-{}", crate::short_id()));
        let records = vec![
            in_cell(samples::in_place(), "a"),
            in_cell(samples::in_place(), "b"),
        ];
        write(&out, &combined(records)).unwrap();
        for file in [
            "results.json",
            "junit.xml",
            "gate.json",
            "report.md",
            "report.html",
        ] {
            assert!(out.join(file).is_file(), "{file}");
        }
        let html = std::fs::read_to_string(out.join("report.html")).unwrap();
        assert!(html.contains("<svg"));
        let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
        assert!(
            junit.contains("cell a") && junit.contains("cell b"),
            "{junit}"
        );
        std::fs::remove_dir_all(out).unwrap();
    }
}
