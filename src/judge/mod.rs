//! Judging: pure functions of records (checks, cells, claims, verdicts),
//! each record judged once, and the gate's decision over them.

pub mod assess;
pub mod gate;
pub mod judged;
pub mod phases;
pub mod platform;
