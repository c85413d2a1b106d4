//! The premise that the cluster created the workload as planned: every
//! field a scenario depends on (update strategy, partition,
//! maxUnavailable, grace period, pod update policy, resize policy,
//! volumes, images), compared as planned (the fixture as sent) and as
//! created (the API server's answer, after every mutating admission
//! webhook and policy). A field the cluster changed is named, never
//! silently judged against.

use serde_json::Value;

use crate::model::record::{CreatedAsPlanned, FieldChange};

/// One field a kind's scenarios depend on: a JSON pointer (`*` stands for
/// every element of an array) and, for a field whose absence means a
/// value, that value (a partition left out is 0).
pub struct Field {
    pub pointer: &'static str,
    pub absent_is: Option<i64>,
}

/// A field compared only where the plan sets it (values the plan sets
/// must be there; what the server adds beside them is its default).
pub const fn planned(pointer: &'static str) -> Field {
    Field {
        pointer,
        absent_is: None,
    }
}

/// The template fields every kind's scenarios depend on.
pub const TEMPLATE: &[Field] = &[
    planned("/spec/template/spec/terminationGracePeriodSeconds"),
    planned("/spec/template/spec/readinessGates"),
    planned("/spec/template/spec/volumes"),
    planned("/spec/template/spec/containers/*/image"),
    planned("/spec/template/spec/containers/*/env"),
    planned("/spec/template/spec/containers/*/resizePolicy"),
];

/// Every other object of a fixture (a Service, a claim): its whole `spec`
/// as planned.
pub const OTHER: &[Field] = &[planned("/spec")];

/// A SidecarSet: what it selects (pods, and namespaces by selector),
/// injects and how it updates. A v1alpha1 `spec.namespace` is compared by
/// `namespace_kept`: OpenKruise v1.9.0 stores
/// SidecarSets as v1beta1, which has no `spec.namespace`; the conversion
/// (apis/apps/v1alpha1/sidecarset_conversion.go) turns it into a
/// `namespaceSelector` on `kubernetes.io/metadata.name`, and the v1alpha1
/// object read back carries only that selector.
const SIDECARSET: &[Field] = &[
    planned("/spec/selector"),
    planned("/spec/namespaceSelector"),
    planned("/spec/updateStrategy"),
    planned("/spec/containers/*/name"),
    planned("/spec/containers/*/image"),
    planned("/spec/containers/*/podInjectPolicy"),
];

/// Compares an object that is not the workload: a SidecarSet on the fields
/// its scenarios depend on, anything else on its whole `spec`.
pub fn compare_other(planned: &Value, created: &Value) -> CreatedAsPlanned {
    if planned["kind"].as_str() != Some("SidecarSet") {
        return compare(OTHER, planned, created);
    }
    let mut result = compare(SIDECARSET, planned, created);
    if let Some(namespace) = planned.pointer("/spec/namespace").and_then(Value::as_str) {
        result.fields.push("/spec/namespace".to_string());
        if !namespace_kept(namespace, created) {
            result.changed.push(FieldChange {
                field: "/spec/namespace".to_string(),
                planned: Value::from(namespace),
                created: created
                    .pointer("/spec/namespaceSelector")
                    .or_else(|| created.pointer("/spec/namespace"))
                    .cloned()
                    .unwrap_or(Value::Null),
            });
        }
    }
    result
}

/// The SidecarSet still reaches exactly `namespace`: as its `namespace`, or
/// as the selector the v1beta1 conversion makes of it.
fn namespace_kept(namespace: &str, created: &Value) -> bool {
    let as_selector = created
        .pointer("/spec/namespaceSelector/matchLabels/kubernetes.io~1metadata.name")
        .and_then(Value::as_str);
    let only_that_label = created
        .pointer("/spec/namespaceSelector/matchLabels")
        .and_then(Value::as_object)
        .is_some_and(|labels| labels.len() == 1)
        && created
            .pointer("/spec/namespaceSelector/matchExpressions")
            .is_none_or(|e| e.as_array().is_some_and(Vec::is_empty));
    created.pointer("/spec/namespace").and_then(Value::as_str) == Some(namespace)
        || (as_selector == Some(namespace) && only_that_label)
}

/// Adds `part` (the comparison of the object `label`) to `all`, each field
/// named with its object.
pub fn merge(all: &mut CreatedAsPlanned, label: &str, part: CreatedAsPlanned) {
    all.fields
        .extend(part.fields.into_iter().map(|f| format!("{label} {f}")));
    all.changed.extend(part.changed.into_iter().map(|mut c| {
        c.field = format!("{label} {}", c.field);
        c
    }));
}

/// Compares `fields` (and `TEMPLATE`) of the planned and created objects.
pub fn compare(fields: &[Field], planned: &Value, created: &Value) -> CreatedAsPlanned {
    let mut result = CreatedAsPlanned::default();
    for field in fields.iter().chain(TEMPLATE) {
        for (at, want) in resolve(planned, field.pointer) {
            let covered = result
                .fields
                .iter()
                .any(|f| at == *f || at.starts_with(&format!("{f}/")));
            if covered {
                continue;
            }
            result.fields.push(at.clone());
            differences(&at, want, created.pointer(&at), &mut result.changed);
        }
        if let Some(default) = field.absent_is
            && !field.pointer.contains('*')
            && planned.pointer(field.pointer).is_none()
        {
            result.fields.push(field.pointer.to_string());
            let got = created.pointer(field.pointer);
            if got.is_some_and(|v| v.as_i64() != Some(default)) {
                result.changed.push(FieldChange {
                    field: field.pointer.to_string(),
                    planned: Value::from(default),
                    created: got.cloned().unwrap_or(Value::Null),
                });
            }
        }
    }
    result
}

/// The concrete pointers (and values) `pattern` names in `value`.
fn resolve<'a>(value: &'a Value, pattern: &str) -> Vec<(String, &'a Value)> {
    let mut found = vec![(String::new(), value)];
    for part in pattern.split('/').skip(1) {
        found = found
            .into_iter()
            .flat_map(|(at, v)| match (part, v) {
                ("*", Value::Array(items)) => items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| (format!("{at}/{i}"), item))
                    .collect::<Vec<_>>(),
                (key, Value::Object(map)) => map
                    .get(key)
                    .map(|item| (format!("{at}/{key}"), item))
                    .into_iter()
                    .collect(),
                (index, Value::Array(items)) => index
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| items.get(i))
                    .map(|item| (format!("{at}/{index}"), item))
                    .into_iter()
                    .collect(),
                _ => Vec::new(),
            })
            .collect();
    }
    found
}

/// What the plan sets and the created object does not have as planned:
/// objects key by key, arrays element by element, numbers by value.
fn differences(at: &str, want: &Value, got: Option<&Value>, out: &mut Vec<FieldChange>) {
    let changed = |out: &mut Vec<FieldChange>| {
        out.push(FieldChange {
            field: at.to_string(),
            planned: want.clone(),
            created: got.cloned().unwrap_or(Value::Null),
        })
    };
    match (want, got) {
        (Value::Object(want), Some(Value::Object(got))) => {
            for (key, value) in want {
                differences(&format!("{at}/{key}"), value, got.get(key), out);
            }
        }
        (Value::Array(want), Some(Value::Array(got))) if want.len() == got.len() => {
            for (i, (w, g)) in want.iter().zip(got).enumerate() {
                differences(&format!("{at}/{i}"), w, Some(g), out);
            }
        }
        (Value::Number(w), Some(Value::Number(g))) if w.as_f64() == g.as_f64() => {}
        (want, Some(got)) if want == got => {}
        _ => changed(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CLONESET: &[Field] = &[
        planned("/spec/replicas"),
        planned("/spec/updateStrategy"),
        Field {
            pointer: "/spec/updateStrategy/partition",
            absent_is: Some(0),
        },
    ];

    fn cloneset(partition: Option<i64>) -> Value {
        let mut strategy = json!({"type": "InPlaceIfPossible", "maxUnavailable": 1});
        if let Some(p) = partition {
            strategy["partition"] = json!(p);
        }
        json!({"spec": {"replicas": 3, "updateStrategy": strategy, "template": {"spec": {
            "containers": [{"name": "app", "image": "r/app:s0",
                             "env": [{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "x"}}}]}],
            "volumes": [{"name": "mem", "emptyDir": {"medium": "Memory"}}]}}}})
    }

    #[test]
    fn server_defaults_beside_planned_values_are_no_change() {
        let planned = cloneset(Some(2));
        let mut created = planned.clone();
        created["spec"]["updateStrategy"]["maxSurge"] = json!(0);
        created["spec"]["template"]["spec"]["containers"][0]["env"][0]["valueFrom"]["fieldRef"]["apiVersion"] =
            json!("v1");
        created["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] =
            json!("IfNotPresent");
        let result = compare(CLONESET, &planned, &created);
        assert!(result.changed.is_empty(), "{:?}", result.changed);
        assert!(
            result
                .fields
                .contains(&"/spec/template/spec/containers/0/image".to_string())
        );
    }

    #[test]
    fn a_partition_the_cluster_changed_is_named() {
        let planned = cloneset(Some(2));
        let mut created = planned.clone();
        created["spec"]["updateStrategy"]["partition"] = json!(0);
        let result = compare(CLONESET, &planned, &created);
        assert_eq!(result.changed.len(), 1, "{:?}", result.changed);
        assert_eq!(result.changed[0].field, "/spec/updateStrategy/partition");
        assert_eq!(result.changed[0].planned, json!(2));
        assert_eq!(result.changed[0].created, json!(0));
    }

    #[test]
    fn a_partition_added_to_a_plan_without_one_is_named() {
        let planned = cloneset(None);
        let mut created = planned.clone();
        created["spec"]["updateStrategy"]["partition"] = json!(1);
        let result = compare(CLONESET, &planned, &created);
        assert_eq!(result.changed.len(), 1, "{:?}", result.changed);
        assert_eq!(result.changed[0].planned, json!(0));
        let mut zero = planned.clone();
        zero["spec"]["updateStrategy"]["partition"] = json!(0);
        assert!(compare(CLONESET, &planned, &zero).changed.is_empty());
    }

    #[test]
    fn a_sidecarset_namespace_turned_into_its_selector_is_kept() {
        let planned = json!({"kind": "SidecarSet", "spec": {
            "namespace": "ipc-x", "selector": {"matchLabels": {"a": "b"}},
            "containers": [{"name": "sidecar", "image": "r/s:s0"}]}});
        let mut converted = planned.clone();
        converted["spec"]
            .as_object_mut()
            .unwrap()
            .remove("namespace");
        converted["spec"]["namespaceSelector"] =
            json!({"matchLabels": {"kubernetes.io/metadata.name": "ipc-x"}});
        assert!(compare_other(&planned, &converted).changed.is_empty());
        let mut widened = converted.clone();
        widened["spec"]["namespaceSelector"] = json!({"matchLabels": {}});
        let changed = compare_other(&planned, &widened).changed;
        assert_eq!(changed.len(), 1, "{changed:?}");
        assert_eq!(changed[0].field, "/spec/namespace");
        let mut other = converted;
        other["spec"]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] =
            json!("ipc-y");
        assert_eq!(compare_other(&planned, &other).changed.len(), 1);
    }

    #[test]
    fn a_volume_medium_or_image_the_cluster_changed_is_named() {
        let planned = cloneset(None);
        let mut created = planned.clone();
        created["spec"]["template"]["spec"]["volumes"][0]["emptyDir"] = json!({});
        created["spec"]["template"]["spec"]["containers"][0]["image"] = json!("mirror/app:s0");
        let fields: Vec<String> = compare(CLONESET, &planned, &created)
            .changed
            .into_iter()
            .map(|c| c.field)
            .collect();
        assert_eq!(
            fields,
            vec![
                "/spec/template/spec/volumes/0/emptyDir/medium",
                "/spec/template/spec/containers/0/image"
            ]
        );
    }
}
