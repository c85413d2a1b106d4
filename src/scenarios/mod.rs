//! What to run and what must hold: the catalog of scenarios, the
//! expectation tables with their sources, and the known races.

pub mod catalog;
pub mod expect;
pub mod races;
