//! The report as Markdown: the summary, the seed's comparison table, the
//! behaviour matrix, the claims, the known races met, every scenario's
//! checks.

use super::*;

/// Markdown rendering of the report.
pub fn render_markdown(report: &Report) -> String {
    let mut out = String::new();
    out.push_str("# OpenKruise in-place update: conformance report\n\n");
    for line in report.summary.lines() {
        out.push_str(&format!("- {}\n", escape_cell(&line)));
    }
    for failure in &report.summary.failures {
        out.push_str(&format!("- FAIL {}\n", escape_cell(failure)));
    }
    out.push('\n');
    out.push_str(&format!(
        "Generated {} from {} recorded scenario(s). Every value below was observed on a real \
         cluster; expectations are in `src/scenarios/expect.rs`, each with its source in OpenKruise \
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
    render_time(report, &mut out);
    render_phases(report, &mut out);
    render_scenarios(report, &mut out);
    out
}

/// Each check that met a known race: (scenario, check, the race).
pub fn races_met(report: &Report) -> Vec<(&str, &str, &'static crate::scenarios::races::Race)> {
    let mut met = Vec::new();
    for s in &report.scenarios {
        for c in &s.checks {
            for race in c
                .races
                .iter()
                .filter_map(|r| crate::scenarios::races::named(r))
            {
                met.push((s.scenario.as_str(), c.name.as_str(), race));
            }
        }
    }
    met
}

/// Known races do not change a verdict; this section is where they are
/// told, each with its cause and what was judged instead.
pub(super) fn render_races(report: &Report, out: &mut String) {
    out.push_str(
        "## Known races met

",
    );
    let met = races_met(report);
    if met.is_empty() {
        out.push_str("None of the known races (`src/scenarios/races.rs`) showed in this run.\n\n");
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
    let mut causes: Vec<&crate::scenarios::races::Race> = met.iter().map(|(_, _, r)| *r).collect();
    causes.sort_by_key(|r| r.name);
    causes.dedup_by_key(|r| r.name);
    for race in causes {
        out.push_str(&format!("- `{}`: {}\n", race.name, race.cause));
    }
    out.push('\n');
}

pub(super) fn render_comparison(report: &Report, out: &mut String) {
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

pub(super) fn render_cell(cell: &Cell) -> String {
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

pub(super) fn render_matrix(report: &Report, out: &mut String) {
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

pub(super) fn render_claims(report: &Report, out: &mut String) {
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

pub(super) fn render_scenarios(report: &Report, out: &mut String) {
    out.push_str("## Scenarios\n\n");
    for s in &report.scenarios {
        out.push_str(&format!("### {}: {}\n\n", s.scenario, s.verdict.label()));
        out.push_str(&format!(
            "- {}\n- {}\n- namespace `{}`, {} .. {}\n- {}\n- obtained on: {}\n- images: {}\n",
            s.summary,
            s.workload,
            s.namespace,
            s.started_at,
            s.finished_at,
            s.cluster,
            s.platform,
            s.image_delivery
        ));
        for update in &s.updates {
            out.push_str(&format!("- change {update}\n"));
        }
        if !s.laps.is_empty() {
            let total: u64 = s.laps.iter().map(|l| l.ms).sum();
            let laps: Vec<String> = s
                .laps
                .iter()
                .map(|l| format!("{} {:.1}", l.name, l.ms as f64 / 1000.0))
                .collect();
            out.push_str(&format!(
                "- time (s): {} (total {:.1})\n",
                laps.join(" · "),
                total as f64 / 1000.0
            ));
        }
        if let Some(error) = &s.error {
            out.push_str(&format!("- **stopped early**: {}\n", one_line(error)));
        }
        out.push('\n');
        render_step_phases(&s.phases, out);
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

/// Seconds with two decimals, as the phase tables show them.
fn seconds(ms: i64) -> String {
    format!("{:.2}", ms as f64 / 1000.0)
}

/// Each change's milestones, a row each, with the gap from the one before.
fn render_step_phases(phases: &[StepPhases], out: &mut String) {
    for p in phases {
        out.push_str(&format!(
            "Where the time of change #{} ({}) went, seconds after the API server accepted it \
             (pod states as the watch delivered them):\n\n",
            p.step, p.change
        ));
        push_row(
            out,
            &["milestone".into(), "at".into(), "+".into(), "pod".into()],
        );
        push_row(out, &vec!["---".to_string(); 4]);
        let mut previous = 0;
        for m in &p.milestones {
            push_row(
                out,
                &[
                    m.what.clone(),
                    seconds(m.at_ms),
                    seconds(m.at_ms - previous),
                    m.pod.clone(),
                ],
            );
            previous = m.at_ms;
        }
        out.push('\n');
    }
}

/// The harness's own work: every lap but the update, the quiet window
/// and waiting for the other scenarios to end.
fn is_own_work(lap: &str) -> bool {
    !matches!(
        lap,
        "update"
            | "quiet window"
            | crate::model::record::Lap::OTHERS_ENDING
            | crate::model::record::Lap::BUDGET_GIVEN_BACK
            | crate::model::record::Lap::HOLD
            | crate::model::record::Lap::PRE_DOWNLOAD
    )
}

/// The laps every scenario recorded, summed over the run: what is the
/// update itself, what the quiet window, what the harness's own work.
pub(super) fn render_time(report: &Report, out: &mut String) {
    let mut sums: Vec<(String, u64, usize)> = Vec::new();
    for s in &report.scenarios {
        for lap in &s.laps {
            match sums.iter_mut().find(|(name, _, _)| *name == lap.name) {
                Some(sum) => {
                    sum.1 += lap.ms;
                    sum.2 += 1;
                }
                None => sums.push((lap.name.clone(), lap.ms, 1)),
            }
        }
    }
    if sums.is_empty() {
        return;
    }
    let total: u64 = sums.iter().map(|(_, ms, _)| ms).sum();
    let own: u64 = sums
        .iter()
        .filter(|(name, _, _)| is_own_work(name))
        .map(|(_, ms, _)| ms)
        .sum();
    let mut overheads: Vec<u64> = report
        .scenarios
        .iter()
        .filter(|s| !s.laps.is_empty())
        .map(|s| {
            s.laps
                .iter()
                .filter(|l| is_own_work(&l.name))
                .map(|l| l.ms)
                .sum()
        })
        .collect();
    overheads.sort();
    let median = overheads
        .get(overheads.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(0);
    out.push_str(&format!(
        "## Where the scenarios' time goes\n\nScenario wall times summed: {:.1} s, of which the \
         harness's own work (all but the updates and the quiet windows) {:.1} s; per scenario a \
         median of {:.1} s.\n\n",
        total as f64 / 1000.0,
        own as f64 / 1000.0,
        median as f64 / 1000.0
    ));
    push_row(
        out,
        &[
            "stretch".into(),
            "seconds, summed".into(),
            "scenarios".into(),
        ],
    );
    push_row(out, &vec!["---".to_string(); 3]);
    for (name, ms, count) in sums {
        push_row(
            out,
            &[
                name,
                format!("{:.1}", ms as f64 / 1000.0),
                count.to_string(),
            ],
        );
    }
    out.push('\n');
}

/// The first image change of every scenario side by side: in place, recreate
/// and rolling update, milestone by milestone.
pub(super) fn render_phases(report: &Report, out: &mut String) {
    let rows: Vec<(&ScenarioSummary, &StepPhases)> = report
        .scenarios
        .iter()
        .filter_map(|s| {
            s.phases
                .iter()
                .find(|p| p.change == "image")
                .map(|p| (s, p))
        })
        .collect();
    if rows.is_empty() {
        return;
    }
    out.push_str(
        "## Where an image update's time goes\n\nThe first image change of each scenario: \
         each milestone in seconds after the API server accepted the change, as a pod watch \
         delivered it (per scenario below, with the gaps).\n\n",
    );
    push_row(
        out,
        &[
            "scenario".into(),
            "workload".into(),
            "milestones".into(),
            "done".into(),
        ],
    );
    push_row(out, &vec!["---".to_string(); 4]);
    for (s, p) in rows {
        let done = p
            .milestones
            .iter()
            .find(|m| m.id == "workload-done")
            .map(|m| seconds(m.at_ms))
            .unwrap_or_default();
        let steps: Vec<String> = p
            .milestones
            .iter()
            .filter(|m| m.id != "workload-done")
            .map(|m| format!("{} {}", m.id, seconds(m.at_ms)))
            .collect();
        let workload = s
            .workload
            .split(", fixture")
            .next()
            .unwrap_or("")
            .to_string();
        push_row(
            out,
            &[s.scenario.clone(), workload, steps.join(" · "), done],
        );
    }
    out.push('\n');
}

pub(super) fn push_row(out: &mut String, cells: &[String]) {
    let cells: Vec<String> = cells.iter().map(|c| escape_cell(c)).collect();
    out.push_str(&format!("| {} |\n", cells.join(" | ")));
}

/// A table cell must stay on one line and must not close the cell early.
pub fn escape_cell(text: &str) -> String {
    one_line(text).replace('|', "\\|")
}

pub(super) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
