//! What a run writes: the scenario record (schema-versioned observations),
//! a qualification cell's summary, the verdict vocabulary, and the event
//! stream reporters consume.

pub mod cell;
pub mod event;
pub mod permission;
pub mod record;
pub mod verdict;
