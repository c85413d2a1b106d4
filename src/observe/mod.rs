//! Observing a live cluster: OpenKruise's objects as the suite reads them,
//! probes inside pods, events, traffic, and watch-woken waits.

pub mod budget;
pub mod events;
pub mod image_pull_jobs;
pub mod kruise;
pub mod probe;
pub mod timeline;
pub mod traffic;
pub mod wait;
pub mod watched;
