//! Kubernetes events, with one rule for an event's time used everywhere
//! (sorting, "since the step started", the record): the latest of the
//! series' last observation, `lastTimestamp`, `eventTime` and
//! `firstTimestamp`, whichever the emitter filled.

use k8s_openapi::api::core::v1::Event;
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, ListParams};

use crate::model::record::EventRecord;

/// The one rule: when an event was last seen.
pub fn event_time(event: &Event) -> Option<Timestamp> {
    [
        event
            .series
            .as_ref()
            .and_then(|s| s.last_observed_time.as_ref())
            .map(|t| t.0),
        event.last_timestamp.as_ref().map(|t| t.0),
        event.event_time.as_ref().map(|t| t.0),
        event.first_timestamp.as_ref().map(|t| t.0),
    ]
    .into_iter()
    .flatten()
    .max()
}

/// Namespace events, oldest first.
pub async fn list(client: &Client, namespace: &str) -> anyhow::Result<Vec<Event>> {
    let api: Api<Event> = Api::namespaced(client.clone(), namespace);
    let mut events = api.list(&ListParams::default()).await?.items;
    events.sort_by_key(event_time);
    Ok(events)
}

/// Events seen at or after `since`. Event times have whole-second
/// resolution (lastTimestamp), so `since` is rounded down to its second;
/// events without any time are kept.
pub fn since(events: &[Event], since: Timestamp) -> Vec<EventRecord> {
    let floor = since.as_second();
    events
        .iter()
        .filter(|e| event_time(e).is_none_or(|t| t.as_second() >= floor))
        .map(record)
        .collect()
}

pub async fn records_since(
    client: &Client,
    namespace: &str,
    start: Timestamp,
) -> anyhow::Result<Vec<EventRecord>> {
    Ok(since(&list(client, namespace).await?, start))
}

pub fn record(event: &Event) -> EventRecord {
    let source = event
        .source
        .as_ref()
        .and_then(|s| s.component.clone())
        .or_else(|| event.reporting_component.clone())
        .filter(|s| !s.is_empty());
    EventRecord {
        reason: event.reason.clone().unwrap_or_default(),
        message: event.message.clone().unwrap_or_default(),
        type_: event.type_.clone().unwrap_or_default(),
        object_kind: event.involved_object.kind.clone().unwrap_or_default(),
        object_name: event.involved_object.name.clone().unwrap_or_default(),
        object_uid: event.involved_object.uid.clone(),
        first_seen: event
            .first_timestamp
            .as_ref()
            .map(|t| t.0)
            .or(event.event_time.as_ref().map(|t| t.0))
            .map(|t| t.to_string()),
        last_seen: event_time(event).map(|t| t.to_string()),
        count: event.count.unwrap_or(1),
        source,
    }
}

/// The namespace's latest events as one line, newest last.
pub async fn recent(client: &Client, namespace: &str, limit: usize) -> String {
    match list(client, namespace).await {
        Err(err) => format!(
            "(could not list events: {})",
            crate::observe::kruise::error_text(&err)
        ),
        Ok(events) => {
            let start = events.len().saturating_sub(limit);
            let lines: Vec<String> = events[start..].iter().map(describe).collect();
            if lines.is_empty() {
                "(none)".into()
            } else {
                lines.join(" | ")
            }
        }
    }
}

fn describe(event: &Event) -> String {
    format!(
        "{} {}/{} {}: {}",
        event_time(event).map(|t| t.to_string()).unwrap_or_default(),
        event.involved_object.kind.as_deref().unwrap_or("?"),
        event.involved_object.name.as_deref().unwrap_or("?"),
        event.reason.as_deref().unwrap_or("?"),
        event.message.as_deref().unwrap_or("").trim()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: serde_json::Value) -> Event {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn new_style_events_take_their_time_from_event_time() {
        let e = event(serde_json::json!({
            "metadata": {"name": "e"},
            "involvedObject": {"kind": "Pod", "name": "app-1", "uid": "u1"},
            "reason": "Scheduled", "message": "Successfully assigned ns/app-1 to n1",
            "type": "Normal", "eventTime": "2026-08-20T10:11:02.123456Z",
            "reportingComponent": "default-scheduler"
        }));
        let r = record(&e);
        assert_eq!(r.last_seen.as_deref(), Some("2026-08-20T10:11:02.123456Z"));
        assert_eq!(r.source.as_deref(), Some("default-scheduler"));
        assert_eq!(r.object_uid.as_deref(), Some("u1"));
        assert_eq!(r.count, 1);
    }

    #[test]
    fn the_latest_of_the_times_wins() {
        let e = event(serde_json::json!({
            "metadata": {"name": "e"}, "involvedObject": {},
            "firstTimestamp": "2026-08-20T10:00:00Z",
            "lastTimestamp": "2026-08-20T10:05:00Z",
            "eventTime": "2026-08-20T10:01:00.5Z"
        }));
        assert_eq!(event_time(&e).unwrap().to_string(), "2026-08-20T10:05:00Z");
    }

    #[test]
    fn since_rounds_down_to_the_second_and_keeps_timeless_events() {
        let at = |t: &str| {
            event(
                serde_json::json!({"metadata": {"name": t}, "involvedObject": {},
                "reason": t, "lastTimestamp": t}),
            )
        };
        let timeless = event(serde_json::json!({"metadata": {"name": "x"},
            "involvedObject": {}, "reason": "none"}));
        let events = vec![
            at("2026-08-20T10:00:04Z"),
            at("2026-08-20T10:00:05Z"),
            timeless,
        ];
        let start: Timestamp = "2026-08-20T10:00:05.700Z".parse().unwrap();
        let kept: Vec<String> = since(&events, start)
            .into_iter()
            .map(|r| r.reason)
            .collect();
        assert_eq!(kept, vec!["2026-08-20T10:00:05Z", "none"]);
    }
}
