//! The process-wide facts of an interruption, shared by every layer: the
//! run label, whether a signal arrived, and the child process groups to
//! stop. The signal watcher and the sweeper that act on them are in
//! `run::cleanup`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Label on every namespace and registry container a run creates.
pub const RUN_LABEL: &str = "inplace-conformance/run";

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static SIGNAL: Mutex<Option<&'static str>> = Mutex::new(None);
static CHILDREN: Mutex<Vec<u32>> = Mutex::new(Vec::new());
static WAKE: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Set once a signal arrived: nothing new may be created after it.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// The signal that interrupted the run ("SIGINT", "SIGTERM"), if any.
pub fn signal() -> Option<&'static str> {
    *SIGNAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// Records the interruption and wakes everything waiting in `cancelled`.
pub fn mark_interrupted(signal: &'static str) {
    SIGNAL
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get_or_insert(signal);
    INTERRUPTED.store(true, Ordering::SeqCst);
    WAKE.notify_waiters();
}

/// Resolves once the run is interrupted (at once if it already is): the
/// other arm of a `select!` around work that must stop on a signal.
pub async fn cancelled() {
    loop {
        let woken = WAKE.notified();
        if interrupted() {
            return;
        }
        woken.await;
    }
}

/// A child process group to stop on interruption (scripts that create
/// clusters run in their own group, so a SIGTERM to this process alone
/// would not reach them).
pub fn track_child(pgid: u32) {
    CHILDREN
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(pgid);
}

pub fn untrack_child(pgid: u32) {
    CHILDREN
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .retain(|p| *p != pgid);
}

/// The child process groups still running, forgotten by the registry.
pub fn take_children() -> Vec<u32> {
    std::mem::take(&mut *CHILDREN.lock().unwrap_or_else(|p| p.into_inner()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_are_tracked_until_taken() {
        track_child(4242);
        track_child(4343);
        untrack_child(4242);
        assert!(take_children().contains(&4343));
        assert!(!take_children().contains(&4343));
    }
}
