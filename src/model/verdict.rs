//! The verdict vocabulary every record, check and report shares.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    Pass,
    Fail,
    /// Observed, but neither confirms nor refutes (C12 between the ratios).
    Inconclusive,
    NotRun,
    /// The cluster cannot run it (a feature gate off): not a pass.
    Unsupported,
    /// A signal stopped it before it finished: neither pass nor fail.
    Interrupted,
    /// It failed the way a known upstream defect makes it fail, on the
    /// versions the defect is known on (`scenarios::defects`).
    KnownDefect,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Inconclusive => "INCONCLUSIVE",
            Verdict::NotRun => "NOT RUN",
            Verdict::Unsupported => "UNSUPPORTED",
            Verdict::Interrupted => "INTERRUPTED",
            Verdict::KnownDefect => "KNOWN DEFECT",
        }
    }

    pub fn from_bool(pass: bool) -> Verdict {
        if pass { Verdict::Pass } else { Verdict::Fail }
    }
}
