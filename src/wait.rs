//! Deadline-bound waiting. Every wait polls a condition at a short interval
//! until a deadline; no fixed sleeps. A timeout says what was awaited, the
//! last state seen and the namespace's recent events, because "timed out"
//! alone is the most common useless e2e failure.

use std::future::Future;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Event;
use kube::Client;
use kube::api::{Api, ListParams};

/// Named per-operation timeouts (chainsaw-style), one place to tune them.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Workload created -> first pod ready (includes the first image pull).
    pub ready: Duration,
    /// Image patched -> update complete.
    pub update: Duration,
    /// One exec round trip.
    pub exec: Duration,
    /// Namespace deletion.
    pub cleanup: Duration,
    /// Events expected shortly after completion (kruise, kubelet).
    pub events: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            ready: Duration::from_secs(240),
            update: Duration::from_secs(240),
            exec: Duration::from_secs(30),
            cleanup: Duration::from_secs(180),
            events: Duration::from_secs(20),
        }
    }
}

/// Result of one look at the world.
pub enum Poll<T> {
    Ready(T),
    /// Not yet; the text describes the state seen (kept for the error).
    Pending(String),
}

/// Where diagnostics come from when a wait times out.
#[derive(Clone)]
pub struct WaitContext {
    pub client: Client,
    pub namespace: String,
    /// Prefix for progress lines on stderr (the scenario name).
    pub label: String,
}

#[derive(Debug, thiserror::Error)]
#[error(
    "timed out after {elapsed_s}s waiting for {what}; last state: {last_state}; recent events in {namespace}: {events}"
)]
pub struct WaitTimeout {
    pub what: String,
    pub elapsed_s: u64,
    pub last_state: String,
    pub namespace: String,
    pub events: String,
}

const POLL_INTERVAL: Duration = Duration::from_millis(500);
const PROGRESS_EVERY: Duration = Duration::from_secs(15);

/// Polls `check` until it is ready or `timeout` passes. Errors from `check`
/// count as "pending" (API hiccups while pods restart are expected) and are
/// reported as the last state if the deadline passes.
pub async fn until<T, F, Fut>(
    ctx: &WaitContext,
    what: &str,
    timeout: Duration,
    mut check: F,
) -> Result<T, WaitTimeout>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Poll<T>>>,
{
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + timeout;
    let mut ticker = tokio::time::interval(POLL_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_state = String::from("not checked yet");
    let mut last_progress = Instant::now();
    loop {
        let tick = tokio::time::timeout_at(deadline, ticker.tick()).await;
        if tick.is_err() {
            break;
        }
        let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(remaining, check()).await {
            Ok(Ok(Poll::Ready(value))) => return Ok(value),
            Ok(Ok(Poll::Pending(state))) => last_state = state,
            Ok(Err(err)) => last_state = format!("error: {err:#}"),
            Err(_) => break,
        }
        if last_progress.elapsed() >= PROGRESS_EVERY {
            last_progress = Instant::now();
            progress(
                &ctx.label,
                &format!(
                    "waiting for {what} ({}s/{}s): {last_state}",
                    started.elapsed().as_secs(),
                    timeout.as_secs()
                ),
            );
        }
    }
    Err(WaitTimeout {
        what: what.to_string(),
        elapsed_s: started.elapsed().as_secs(),
        last_state,
        namespace: ctx.namespace.clone(),
        events: recent_events(&ctx.client, &ctx.namespace, 12).await,
    })
}

/// A progress line on stderr: long work must say what it is waiting for.
pub fn progress(label: &str, message: &str) {
    eprintln!("[inplace-conformance {label}] {message}");
}

/// The namespace's latest events as one line, newest last.
pub async fn recent_events(client: &Client, namespace: &str, limit: usize) -> String {
    let api: Api<Event> = Api::namespaced(client.clone(), namespace);
    match api.list(&ListParams::default()).await {
        Err(err) => format!("(could not list events: {err})"),
        Ok(list) => {
            let mut events = list.items;
            events.sort_by_key(event_time);
            let start = events.len().saturating_sub(limit);
            let lines: Vec<String> = events[start..].iter().map(describe_event).collect();
            if lines.is_empty() {
                "(none)".into()
            } else {
                lines.join(" | ")
            }
        }
    }
}

/// Best available timestamp of an event, as sortable text.
pub fn event_time(event: &Event) -> String {
    event
        .last_timestamp
        .as_ref()
        .map(|t| t.0.to_string())
        .or_else(|| event.event_time.as_ref().map(|t| t.0.to_string()))
        .or_else(|| event.first_timestamp.as_ref().map(|t| t.0.to_string()))
        .unwrap_or_default()
}

fn describe_event(event: &Event) -> String {
    format!(
        "{} {}/{} {}: {}",
        event_time(event),
        event.involved_object.kind.as_deref().unwrap_or("?"),
        event.involved_object.name.as_deref().unwrap_or("?"),
        event.reason.as_deref().unwrap_or("?"),
        event.message.as_deref().unwrap_or("").trim()
    )
}
