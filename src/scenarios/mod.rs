//! What to run and what must hold: the catalog of scenarios, the
//! expectation tables with their sources, the known races, and each
//! scenario resolved once into a plan.

pub mod catalog;
pub mod expect;
pub mod plan;
pub mod races;
