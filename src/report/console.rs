//! The terminal's view of the event stream, and the only thing that
//! prints while a run goes: where a long run is (`[7/22] partition:
//! waiting for ... (12 s)`), each scenario's verdict and time as it ends,
//! and at the end the run's summary and the report's path. Lines go
//! straight to the process's stderr (not through the test harness's
//! capture), whole lines at a time. `JsonLines` is the machine-readable
//! twin (`--events jsonl`).

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use crate::model::event::{self, Event, Reporter, Stamped};
use crate::model::verdict::Verdict;

/// Subscribes the console reporter (once per process is enough; later
/// calls are ignored).
pub fn install() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| event::subscribe(Arc::new(Console::default())));
}

/// Subscribes a JSON-lines reporter writing to stdout.
pub fn install_json_lines() {
    event::subscribe(Arc::new(JsonLines(Mutex::new(Box::new(std::io::stdout())))));
}

#[derive(Default)]
pub struct Console {
    state: Mutex<Progress>,
}

/// Scenario positions within the current selection.
#[derive(Default)]
struct Progress {
    total: usize,
    started: BTreeMap<String, usize>,
}

impl Progress {
    /// `[i/n] scope` for a scenario of the selection, `[scope]` otherwise.
    fn prefix(&self, scope: &str) -> String {
        match self.started.get(scope) {
            Some(i) if self.total > 0 => format!("[{i}/{}] {scope}", self.total),
            Some(i) => format!("[{i}] {scope}"),
            None => format!("[{scope}]"),
        }
    }

    /// What starts a line about `scope`: `[i/n] scope:` or `[scope]`.
    fn lead(&self, scope: &str) -> String {
        if self.started.contains_key(scope) {
            format!("{}:", self.prefix(scope))
        } else {
            self.prefix(scope)
        }
    }
}

impl Reporter for Console {
    fn report(&self, stamped: &Stamped) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let lines = render(&mut state, &stamped.event);
        drop(state);
        if lines.is_empty() {
            return;
        }
        let mut err = std::io::stderr().lock();
        for line in lines {
            let _ = writeln!(err, "{line}");
        }
    }
}

/// The lines one event prints (none for some).
fn render(state: &mut Progress, event: &Event) -> Vec<String> {
    match event {
        Event::RunStarted {
            run_id,
            output_dir,
            scenarios,
        } => {
            state.total = *scenarios;
            state.started.clear();
            vec![format!(
                "inplace-conformance: run {run_id}, {scenarios} scenario(s), into {output_dir}"
            )]
        }
        Event::ScenarioStarted {
            scenario,
            namespace,
            summary,
        } => {
            let next = state.started.len() + 1;
            state.started.entry(scenario.clone()).or_insert(next);
            vec![format!(
                "{} started in {namespace}: {summary}",
                state.lead(scenario)
            )]
        }
        Event::StepApplied {
            scenario,
            step,
            change,
        } => vec![format!("{} change #{step}: {change}", state.lead(scenario))],
        Event::Waiting {
            scope,
            what,
            state: seen,
            elapsed_s,
            timeout_s,
        } => vec![format!(
            "{} waiting for {what} ({elapsed_s} s of {timeout_s} s): {}",
            state.lead(scope),
            one_line(seen, 200)
        )],
        Event::Note { scope, message } => vec![format!("{} {message}", state.lead(scope))],
        Event::Warning { scope, message } => {
            vec![format!("{} warning: {message}", state.lead(scope))]
        }
        Event::ScenarioFinished {
            scenario,
            verdict,
            seconds,
            failures,
        } => {
            // A scenario refused before it started (unsupported here) still
            // takes its place in the count.
            let next = state.started.len() + 1;
            state.started.entry(scenario.clone()).or_insert(next);
            let head = format!(
                "{} {} ({seconds:.0} s)",
                verdict.label(),
                state.prefix(scenario)
            );
            match (verdict, failures.first()) {
                (Verdict::Pass, _) | (_, None) => vec![head],
                (_, Some(why)) => vec![format!("{head}: {}", one_line(why, 2000))],
            }
        }
        Event::CellFinished { cell, seconds } => {
            vec![format!("[{cell}] cell done in {seconds:.0} s")]
        }
        Event::RunFinished {
            summary,
            report,
            write_seconds,
            ..
        } => summary
            .iter()
            .cloned()
            .chain(std::iter::once(format!(
                "report: {report} (run folder written in {write_seconds:.2} s)"
            )))
            .collect(),
        Event::Interrupted { signal } => vec![format!(
            "{signal} received: stopping the scenarios that run, recording them INTERRUPTED, \
             removing what the run created"
        )],
    }
}

fn one_line(text: &str, max: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= max {
        line
    } else {
        format!("{}...", line.chars().take(max).collect::<String>())
    }
}

/// Every event as one JSON object per line.
pub struct JsonLines(pub Mutex<Box<dyn Write + Send>>);

impl Reporter for JsonLines {
    fn report(&self, stamped: &Stamped) {
        if let Ok(line) = serde_json::to_string(stamped) {
            let mut out = self.0.lock().unwrap_or_else(|p| p.into_inner());
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(events: &[Event]) -> Vec<String> {
        let mut state = Progress::default();
        events.iter().flat_map(|e| render(&mut state, e)).collect()
    }

    #[test]
    fn scenarios_are_numbered_in_start_order_of_the_selection() {
        let printed = lines(&[
            Event::RunStarted {
                run_id: "r".into(),
                output_dir: "out".into(),
                scenarios: 22,
            },
            Event::ScenarioStarted {
                scenario: "a".into(),
                namespace: "ns-a".into(),
                summary: "first".into(),
            },
            Event::ScenarioStarted {
                scenario: "partition".into(),
                namespace: "ns-p".into(),
                summary: "second".into(),
            },
            Event::Waiting {
                scope: "partition".into(),
                what: "CloneSet updatedReadyReplicas 1/1".into(),
                state: "0/1".into(),
                elapsed_s: 12,
                timeout_s: 240,
            },
            Event::ScenarioFinished {
                scenario: "partition".into(),
                verdict: Verdict::Fail,
                seconds: 31.2,
                failures: vec!["[x] expected\n a, observed b".into()],
            },
        ]);
        assert_eq!(printed[2], "[2/22] partition: started in ns-p: second");
        assert_eq!(
            printed[3],
            "[2/22] partition: waiting for CloneSet updatedReadyReplicas 1/1 (12 s of 240 s): 0/1"
        );
        assert_eq!(
            printed[4],
            "FAIL [2/22] partition (31 s): [x] expected a, observed b"
        );
    }

    #[test]
    fn other_scopes_are_bracketed() {
        let printed = lines(&[Event::Note {
            scope: "cluster".into(),
            message: "deleting".into(),
        }]);
        assert_eq!(printed, vec!["[cluster] deleting"]);
    }
}
