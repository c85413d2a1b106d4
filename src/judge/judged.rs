//! A record judged once: its checks, its expectation cells and its
//! verdict, computed when the record is read and shared by every format
//! that renders it.

use crate::judge::assess::{self, CellVerdict, Check, ClaimVerdict};
use crate::model::record::ScenarioRecord;
use crate::model::verdict::Verdict;

#[derive(Debug, Clone)]
pub struct Judged {
    pub record: ScenarioRecord,
    pub checks: Vec<Check>,
    pub cells: Vec<CellVerdict>,
    pub verdict: Verdict,
}

impl Judged {
    pub fn of(record: ScenarioRecord) -> Judged {
        let checks = assess::scenario_checks(&record);
        let cells = assess::judge_cells(&record);
        let verdict = assess::record_verdict(&record, &checks);
        Judged {
            record,
            checks,
            cells,
            verdict,
        }
    }
}

/// Every record, judged once.
pub fn all(records: &[ScenarioRecord]) -> Vec<Judged> {
    records.iter().cloned().map(Judged::of).collect()
}

/// The claims C1..C13 over judged records (no record judged again).
pub fn claims(judged: &[Judged]) -> Vec<ClaimVerdict> {
    let records: Vec<&ScenarioRecord> = judged.iter().map(|j| &j.record).collect();
    let checks: Vec<Check> = judged.iter().flat_map(|j| j.checks.clone()).collect();
    assess::claims_from_checks(&records, &checks)
}
