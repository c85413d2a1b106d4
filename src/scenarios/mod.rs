//! What to run and what must hold: the catalog of scenarios, the
//! expectation tables with their sources, the known races and upstream
//! defects, and each scenario resolved once into a plan.

pub mod catalog;
pub mod defects;
pub mod expect;
pub mod plan;
pub mod races;
