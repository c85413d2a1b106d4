//! Running scenarios on a cluster: one scenario, a batch, a qualification
//! matrix, requirements, diagnostics, cleanup of what a run created, and
//! the CLI's commands.

pub mod access;
pub mod alone;
pub mod attempts;
pub mod batch;
pub mod cleanup;
pub mod commands;
mod cordon;
pub mod diagnostics;
pub mod guard;
pub mod handoff;
mod hold;
mod hooks;
pub mod pod_security;
mod predownload;
pub mod qualify;
mod registry_check;
pub mod requirements;
pub mod runner;
pub mod schedule;
pub mod secrets;
pub mod session;
