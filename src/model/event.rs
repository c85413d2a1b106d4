//! The run's event stream (nextest's reporter events): every layer emits
//! what it is doing as an `Event`; reporters subscribe (the console
//! reporter is the only thing that prints; `--events jsonl` is another).
//! Nothing is printed when nobody subscribed (unit tests).

use std::sync::{Arc, RwLock};
use std::time::Instant;

use serde::Serialize;

use crate::model::verdict::Verdict;

/// What happened. `scope` is the scenario's name (or "run", "cluster",
/// a cell's name) for events that are not about one scenario.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Event {
    /// A selection of `scenarios` begins (a run, a cell, a test binary).
    RunStarted {
        run_id: String,
        output_dir: String,
        scenarios: usize,
    },
    ScenarioStarted {
        scenario: String,
        namespace: String,
        summary: String,
    },
    /// A change was applied (or refused) at step `step` (1-based).
    StepApplied {
        scenario: String,
        step: usize,
        change: String,
    },
    /// A wait is still pending: what it waits for and the state last seen.
    Waiting {
        scope: String,
        what: String,
        state: String,
        elapsed_s: u64,
        timeout_s: u64,
    },
    /// Anything else worth a line: cluster bring-up, cleanup, diagnostics.
    Note {
        scope: String,
        message: String,
    },
    /// Something went wrong that does not stop the run.
    Warning {
        scope: String,
        message: String,
    },
    ScenarioFinished {
        scenario: String,
        verdict: Verdict,
        seconds: f64,
        /// One line per failed check (or the reason it was unsupported).
        failures: Vec<String>,
    },
    CellFinished {
        cell: String,
        seconds: f64,
    },
    /// The run folder is written: its verdict counts and where it is.
    RunFinished {
        passed: usize,
        failed: usize,
        unsupported: usize,
        interrupted: usize,
        /// How long writing the folder took (it is written once).
        write_seconds: f64,
        /// The first lines of the report: verdicts, gate, cluster, time.
        summary: Vec<String>,
        report: String,
    },
    /// A signal arrived: running scenarios stop and are recorded as such.
    Interrupted {
        signal: String,
    },
}

impl Event {
    /// The scenario (or other scope) the event is about.
    pub fn scope(&self) -> &str {
        match self {
            Event::RunStarted { .. } | Event::RunFinished { .. } | Event::Interrupted { .. } => {
                "run"
            }
            Event::ScenarioStarted { scenario, .. }
            | Event::StepApplied { scenario, .. }
            | Event::ScenarioFinished { scenario, .. } => scenario,
            Event::Waiting { scope, .. }
            | Event::Note { scope, .. }
            | Event::Warning { scope, .. } => scope,
            Event::CellFinished { cell, .. } => cell,
        }
    }
}

/// An event with when it happened: wall clock, and seconds since the
/// process's first event.
#[derive(Debug, Clone, Serialize)]
pub struct Stamped {
    pub at: String,
    pub elapsed_s: f64,
    #[serde(flatten)]
    pub event: Event,
}

/// A consumer of the stream.
pub trait Reporter: Send + Sync {
    fn report(&self, event: &Stamped);
}

static REPORTERS: RwLock<Vec<Arc<dyn Reporter>>> = RwLock::new(Vec::new());
static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

/// Adds a reporter for every later event of this process.
pub fn subscribe(reporter: Arc<dyn Reporter>) {
    START.get_or_init(Instant::now);
    REPORTERS
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .push(reporter);
}

/// Sends `event` to every reporter.
pub fn emit(event: Event) {
    let reporters = REPORTERS.read().unwrap_or_else(|p| p.into_inner());
    if reporters.is_empty() {
        return;
    }
    let stamped = Stamped {
        at: crate::now_rfc3339(),
        elapsed_s: START.get_or_init(Instant::now).elapsed().as_secs_f64(),
        event,
    };
    for reporter in reporters.iter() {
        reporter.report(&stamped);
    }
}

/// A note about `scope`: long work says what it is doing.
pub fn note(scope: &str, message: impl Into<String>) {
    emit(Event::Note {
        scope: scope.to_string(),
        message: message.into(),
    });
}

/// A warning about `scope`.
pub fn warn(scope: &str, message: impl Into<String>) {
    emit(Event::Warning {
        scope: scope.to_string(),
        message: message.into(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    struct Collect(Mutex<Vec<String>>);
    impl Reporter for Collect {
        fn report(&self, event: &Stamped) {
            self.0
                .lock()
                .unwrap()
                .push(serde_json::to_string(event).unwrap());
        }
    }

    #[test]
    fn subscribers_receive_stamped_events_as_json_lines() {
        let collect = Arc::new(Collect(Mutex::new(Vec::new())));
        subscribe(collect.clone());
        note("unit-test-scope", "hello");
        let lines = collect.0.lock().unwrap().clone();
        let line = lines
            .iter()
            .find(|l| l.contains("unit-test-scope"))
            .expect("the note reached the reporter");
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(value["kind"], "note");
        assert_eq!(value["message"], "hello");
        assert!(value["at"].as_str().unwrap().ends_with('Z'));
    }
}
