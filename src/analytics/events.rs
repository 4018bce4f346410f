//! The event catalogue: every product event the app can emit, with the only
//! properties it may carry.
//!
//! Rules: an event is a variant of [`Event`] named `resource.action`; its
//! properties come only from typed fields (booleans, counts, durations,
//! buckets and fixed vocabularies), never from names, notes, emails, URLs or
//! other free text; [`CATALOGUE`] declares them, [`Event::properties`] drops
//! anything undeclared, and `docs/events.md` is generated from the catalogue
//! (`timetracker events-doc`), with a test that fails when it is stale.

use serde_json::{Map, Value, json};

/// The type of a property, as documented.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Bool,
    Seconds,
    Milliseconds,
    Count,
    OneOf(&'static [&'static str]),
    KeyList,
}

impl Kind {
    fn describe(self) -> String {
        match self {
            Kind::Bool => "boolean".into(),
            Kind::Seconds => "integer, seconds".into(),
            Kind::Milliseconds => "integer, milliseconds".into(),
            Kind::Count => "integer".into(),
            Kind::OneOf(values) => format!(
                "one of {}",
                values
                    .iter()
                    .map(|v| format!("`{v}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Kind::KeyList => "list of setting names".into(),
        }
    }
}

/// One catalogue entry.
pub struct Spec {
    pub name: &'static str,
    pub when: &'static str,
    pub properties: &'static [(&'static str, Kind, &'static str)],
}

const GROUPS: &[&str] = &["project", "client", "user", "task", "day"];
const ROW_BUCKETS: &[&str] = &["0", "1-99", "100-9999", "10000-999999", "1000000+"];
const SETTING_KEYS: &[&str] = &[
    "currency",
    "rounding_minutes",
    "timer_policy",
    "allow_overlaps",
    "week_start",
    "export_delimiter",
    "long_timer_hours",
    "auto_stop_long_timers",
];

/// Every event, in documentation order.
pub const CATALOGUE: &[Spec] = &[
    Spec {
        name: "setup.completed",
        when: "the first-run setup created the first administrator",
        properties: &[(
            "telemetry_enabled",
            Kind::Bool,
            "whether install telemetry was chosen",
        )],
    },
    Spec {
        name: "auth.login",
        when: "a user signed in",
        properties: &[("auth_method", Kind::OneOf(&["password"]), "how")],
    },
    Spec {
        name: "auth.logout",
        when: "a user signed out",
        properties: &[],
    },
    Spec {
        name: "client.created",
        when: "an administrator created a client",
        properties: &[("has_rate", Kind::Bool, "a default hourly rate was given")],
    },
    Spec {
        name: "client.updated",
        when: "an administrator edited a client",
        properties: &[],
    },
    Spec {
        name: "client.archived",
        when: "an administrator archived (or restored) a client",
        properties: &[("archived", Kind::Bool, "the new state")],
    },
    Spec {
        name: "client.deleted",
        when: "an administrator deleted a client",
        properties: &[],
    },
    Spec {
        name: "project.created",
        when: "an administrator created a project",
        properties: &[
            ("has_client", Kind::Bool, "the project belongs to a client"),
            ("billable", Kind::Bool, "the project is billable"),
        ],
    },
    Spec {
        name: "project.updated",
        when: "an administrator edited a project",
        properties: &[],
    },
    Spec {
        name: "project.archived",
        when: "an administrator archived (or restored) a project",
        properties: &[("archived", Kind::Bool, "the new state")],
    },
    Spec {
        name: "project.deleted",
        when: "an administrator deleted a project",
        properties: &[],
    },
    Spec {
        name: "task.created",
        when: "an administrator created a task",
        properties: &[
            (
                "priority",
                Kind::OneOf(&["low", "medium", "high", "urgent"]),
                "its priority",
            ),
            ("has_assignee", Kind::Bool, "someone is assigned"),
            ("has_due_date", Kind::Bool, "a due date was set"),
        ],
    },
    Spec {
        name: "task.status_changed",
        when: "a task moved to another status",
        properties: &[
            (
                "from",
                Kind::OneOf(&["todo", "in_progress", "done"]),
                "the old status",
            ),
            (
                "to",
                Kind::OneOf(&["todo", "in_progress", "done"]),
                "the new status",
            ),
        ],
    },
    Spec {
        name: "task.updated",
        when: "an administrator edited a task (name, priority, assignee, due date or project)",
        properties: &[],
    },
    Spec {
        name: "task.deleted",
        when: "an administrator deleted a task",
        properties: &[],
    },
    Spec {
        name: "timer.started",
        when: "a timer was started or restarted",
        properties: &[
            ("has_task", Kind::Bool, "a task was chosen"),
            (
                "has_notes",
                Kind::Bool,
                "notes were typed (their text is never sent)",
            ),
            ("tag_count", Kind::Count, "how many tags"),
            (
                "stopped_previous",
                Kind::Bool,
                "a running timer was stopped by this start",
            ),
        ],
    },
    Spec {
        name: "timer.edited",
        when: "a user changed their running timer in place",
        properties: &[
            ("changed_start", Kind::Bool, "its start time was moved"),
            (
                "changed_project",
                Kind::Bool,
                "it was moved to another project",
            ),
        ],
    },
    Spec {
        name: "timer.stopped",
        when: "a running timer was stopped",
        properties: &[("duration_seconds", Kind::Seconds, "how long it ran")],
    },
    Spec {
        name: "time_entry.created",
        when: "an entry was added by hand",
        properties: &[
            ("duration_seconds", Kind::Seconds, "its length"),
            ("has_task", Kind::Bool, "a task was chosen"),
            ("billable", Kind::Bool, "it is billable"),
        ],
    },
    Spec {
        name: "time_entry.updated",
        when: "an entry was edited",
        properties: &[("duration_seconds", Kind::Seconds, "its new length")],
    },
    Spec {
        name: "time_entry.deleted",
        when: "an entry was deleted",
        properties: &[],
    },
    Spec {
        name: "report.viewed",
        when: "a summary report was shown (page or API)",
        properties: &[
            ("report_type", Kind::OneOf(&["summary"]), "which report"),
            ("grouping", Kind::OneOf(GROUPS), "the first grouping"),
            (
                "subgrouping",
                Kind::OneOf(&["none", "project", "client", "user", "task", "day"]),
                "the second grouping",
            ),
            ("range_days", Kind::Count, "how many days it covers"),
        ],
    },
    Spec {
        name: "export.requested",
        when: "a background export was requested",
        properties: &[("format", Kind::OneOf(&["csv", "xlsx"]), "file format")],
    },
    Spec {
        name: "export.completed",
        when: "a background export was built",
        properties: &[
            ("format", Kind::OneOf(&["csv", "xlsx"]), "file format"),
            (
                "row_count_bucket",
                Kind::OneOf(ROW_BUCKETS),
                "how many rows, coarsely",
            ),
            ("duration_ms", Kind::Milliseconds, "how long the build took"),
        ],
    },
    Spec {
        name: "export.failed",
        when: "a background export could not be built",
        properties: &[("format", Kind::OneOf(&["csv", "xlsx"]), "file format")],
    },
    Spec {
        name: "api_token.created",
        when: "a user created an API token",
        properties: &[("has_expiry", Kind::Bool, "the token expires")],
    },
    Spec {
        name: "api_token.revoked",
        when: "a user revoked an API token",
        properties: &[],
    },
    Spec {
        name: "admin.user_created",
        when: "an administrator created a user",
        properties: &[(
            "role",
            Kind::OneOf(&["admin", "user"]),
            "the new user's role",
        )],
    },
    Spec {
        name: "admin.user_updated",
        when: "an administrator changed a user's role, name or email, made a password reset link, or reactivated them",
        properties: &[(
            "change",
            Kind::OneOf(&["role", "profile", "password_reset", "reactivated"]),
            "what changed",
        )],
    },
    Spec {
        name: "admin.user_deactivated",
        when: "an administrator deactivated a user",
        properties: &[],
    },
    Spec {
        name: "admin.telemetry_viewed",
        when: "an administrator opened the Telemetry page",
        properties: &[],
    },
    Spec {
        name: "admin.telemetry_changed",
        when: "an administrator switched a telemetry channel",
        properties: &[
            (
                "channel",
                Kind::OneOf(&["product", "install"]),
                "which channel",
            ),
            ("enabled", Kind::Bool, "the new state"),
        ],
    },
    Spec {
        name: "admin.settings_updated",
        when: "an administrator saved settings",
        properties: &[(
            "changed_keys",
            Kind::KeyList,
            "which settings changed (never their values)",
        )],
    },
];

/// An event with its typed properties.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    SetupCompleted {
        telemetry_enabled: bool,
    },
    Login,
    Logout,
    ClientCreated {
        has_rate: bool,
    },
    ClientUpdated,
    ClientArchived {
        archived: bool,
    },
    ClientDeleted,
    ProjectCreated {
        has_client: bool,
        billable: bool,
    },
    ProjectUpdated,
    ProjectArchived {
        archived: bool,
    },
    ProjectDeleted,
    TaskCreated {
        priority: &'static str,
        has_assignee: bool,
        has_due_date: bool,
    },
    TaskStatusChanged {
        from: &'static str,
        to: &'static str,
    },
    TaskUpdated,
    TaskDeleted,
    TimerStarted {
        has_task: bool,
        has_notes: bool,
        tag_count: usize,
        stopped_previous: bool,
    },
    TimerEdited {
        changed_start: bool,
        changed_project: bool,
    },
    TimerStopped {
        duration_seconds: i64,
    },
    EntryCreated {
        duration_seconds: i64,
        has_task: bool,
        billable: bool,
    },
    EntryUpdated {
        duration_seconds: i64,
    },
    EntryDeleted,
    ReportViewed {
        grouping: &'static str,
        subgrouping: &'static str,
        range_days: i64,
    },
    ExportRequested {
        format: &'static str,
    },
    ExportCompleted {
        format: &'static str,
        rows: i64,
        duration_ms: i64,
    },
    ExportFailed {
        format: &'static str,
    },
    ApiTokenCreated {
        has_expiry: bool,
    },
    ApiTokenRevoked,
    UserCreated {
        role: &'static str,
    },
    UserUpdated {
        change: &'static str,
    },
    UserDeactivated,
    TelemetryViewed,
    TelemetryChanged {
        channel: &'static str,
        enabled: bool,
    },
    SettingsUpdated {
        changed_keys: Vec<&'static str>,
    },
}

/// Rows as a coarse bucket.
pub fn row_bucket(rows: i64) -> &'static str {
    match rows {
        ..=0 => ROW_BUCKETS[0],
        1..=99 => ROW_BUCKETS[1],
        100..=9_999 => ROW_BUCKETS[2],
        10_000..=999_999 => ROW_BUCKETS[3],
        _ => ROW_BUCKETS[4],
    }
}

impl Event {
    /// The `resource.action` name.
    pub fn name(&self) -> &'static str {
        match self {
            Event::SetupCompleted { .. } => "setup.completed",
            Event::Login => "auth.login",
            Event::Logout => "auth.logout",
            Event::ClientCreated { .. } => "client.created",
            Event::ClientUpdated => "client.updated",
            Event::ClientArchived { .. } => "client.archived",
            Event::ClientDeleted => "client.deleted",
            Event::ProjectCreated { .. } => "project.created",
            Event::ProjectUpdated => "project.updated",
            Event::ProjectArchived { .. } => "project.archived",
            Event::ProjectDeleted => "project.deleted",
            Event::TaskCreated { .. } => "task.created",
            Event::TaskStatusChanged { .. } => "task.status_changed",
            Event::TaskUpdated => "task.updated",
            Event::TaskDeleted => "task.deleted",
            Event::TimerStarted { .. } => "timer.started",
            Event::TimerEdited { .. } => "timer.edited",
            Event::TimerStopped { .. } => "timer.stopped",
            Event::EntryCreated { .. } => "time_entry.created",
            Event::EntryUpdated { .. } => "time_entry.updated",
            Event::EntryDeleted => "time_entry.deleted",
            Event::ReportViewed { .. } => "report.viewed",
            Event::ExportRequested { .. } => "export.requested",
            Event::ExportCompleted { .. } => "export.completed",
            Event::ExportFailed { .. } => "export.failed",
            Event::ApiTokenCreated { .. } => "api_token.created",
            Event::ApiTokenRevoked => "api_token.revoked",
            Event::UserCreated { .. } => "admin.user_created",
            Event::UserUpdated { .. } => "admin.user_updated",
            Event::UserDeactivated => "admin.user_deactivated",
            Event::TelemetryViewed => "admin.telemetry_viewed",
            Event::TelemetryChanged { .. } => "admin.telemetry_changed",
            Event::SettingsUpdated { .. } => "admin.settings_updated",
        }
    }

    fn raw_properties(&self) -> Value {
        match self {
            Event::SetupCompleted { telemetry_enabled } => {
                json!({ "telemetry_enabled": telemetry_enabled })
            }
            Event::Login => json!({ "auth_method": "password" }),
            Event::ClientCreated { has_rate } => json!({ "has_rate": has_rate }),
            Event::ClientArchived { archived } | Event::ProjectArchived { archived } => {
                json!({ "archived": archived })
            }
            Event::ProjectCreated {
                has_client,
                billable,
            } => json!({ "has_client": has_client, "billable": billable }),
            Event::TaskCreated {
                priority,
                has_assignee,
                has_due_date,
            } => {
                json!({ "priority": priority, "has_assignee": has_assignee, "has_due_date": has_due_date })
            }
            Event::TaskStatusChanged { from, to } => json!({ "from": from, "to": to }),
            Event::TimerStarted {
                has_task,
                has_notes,
                tag_count,
                stopped_previous,
            } => json!({
                "has_task": has_task, "has_notes": has_notes, "tag_count": tag_count, "stopped_previous": stopped_previous
            }),
            Event::TimerEdited {
                changed_start,
                changed_project,
            } => json!({ "changed_start": changed_start, "changed_project": changed_project }),
            Event::TimerStopped { duration_seconds } | Event::EntryUpdated { duration_seconds } => {
                json!({ "duration_seconds": duration_seconds })
            }
            Event::EntryCreated {
                duration_seconds,
                has_task,
                billable,
            } => {
                json!({ "duration_seconds": duration_seconds, "has_task": has_task, "billable": billable })
            }
            Event::ReportViewed {
                grouping,
                subgrouping,
                range_days,
            } => json!({
                "report_type": "summary", "grouping": grouping, "subgrouping": subgrouping, "range_days": range_days
            }),
            Event::ExportRequested { format } | Event::ExportFailed { format } => {
                json!({ "format": format })
            }
            Event::ExportCompleted {
                format,
                rows,
                duration_ms,
            } => {
                json!({ "format": format, "row_count_bucket": row_bucket(*rows), "duration_ms": duration_ms })
            }
            Event::ApiTokenCreated { has_expiry } => json!({ "has_expiry": has_expiry }),
            Event::UserCreated { role } => json!({ "role": role }),
            Event::UserUpdated { change } => json!({ "change": change }),
            Event::SettingsUpdated { changed_keys } => json!({ "changed_keys": changed_keys }),
            Event::TelemetryChanged { channel, enabled } => {
                json!({ "channel": channel, "enabled": enabled })
            }
            Event::Logout
            | Event::ClientUpdated
            | Event::ClientDeleted
            | Event::ProjectUpdated
            | Event::ProjectDeleted
            | Event::TaskUpdated
            | Event::TaskDeleted
            | Event::EntryDeleted
            | Event::ApiTokenRevoked
            | Event::UserDeactivated
            | Event::TelemetryViewed => json!({}),
        }
    }

    /// The properties, filtered to what the catalogue declares for this event
    /// and to the declared vocabularies (the privacy filter).
    pub fn properties(&self) -> Map<String, Value> {
        let spec = CATALOGUE.iter().find(|s| s.name == self.name());
        let Value::Object(raw) = self.raw_properties() else {
            return Map::new();
        };
        raw.into_iter()
            .filter(|(key, value)| {
                spec.and_then(|s| s.properties.iter().find(|(name, _, _)| name == key))
                    .is_some_and(|(_, kind, _)| allowed(*kind, value))
            })
            .collect()
    }
}

/// Whether a value fits its declared kind; anything else is dropped.
fn allowed(kind: Kind, value: &Value) -> bool {
    match kind {
        Kind::Bool => value.is_boolean(),
        Kind::Seconds | Kind::Milliseconds | Kind::Count => value.is_i64() || value.is_u64(),
        Kind::OneOf(values) => value.as_str().is_some_and(|v| values.contains(&v)),
        Kind::KeyList => value.as_array().is_some_and(|items| {
            items
                .iter()
                .all(|i| i.as_str().is_some_and(|k| SETTING_KEYS.contains(&k)))
        }),
    }
}

/// Writes the event to the local JSON log (always on; the properties hold no personal data).
pub fn emit(event: &Event) {
    tracing::info!(
        target: "timetracker::events",
        event = event.name(),
        properties = %serde_json::Value::Object(event.properties()),
        "product event"
    );
}

/// `docs/events.md`, generated from [`CATALOGUE`].
pub fn catalogue_markdown() -> String {
    let mut out = String::from(
        "# Tracked events\n\n\
         Generated from `src/analytics/events.rs` by `timetracker events-doc`; do not edit by hand\n\
         (a test fails when this file and the code differ).\n\n\
         Every event is written to the local JSON log with the target `timetracker::events`.\n\
         Properties hold no names, emails, notes, URLs or other free text: only the values below.\n\n",
    );
    for spec in CATALOGUE {
        out.push_str(&format!("## `{}`\n\nWhen {}.\n\n", spec.name, spec.when));
        if spec.properties.is_empty() {
            out.push_str("No properties.\n\n");
            continue;
        }
        out.push_str("| Property | Type | Meaning |\n|---|---|---|\n");
        for (name, kind, meaning) in spec.properties {
            out.push_str(&format!("| `{name}` | {} | {meaning} |\n", kind.describe()));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_of_each() -> Vec<Event> {
        vec![
            Event::SetupCompleted {
                telemetry_enabled: true,
            },
            Event::Login,
            Event::Logout,
            Event::ClientCreated { has_rate: true },
            Event::ClientUpdated,
            Event::ClientArchived { archived: true },
            Event::ClientDeleted,
            Event::ProjectCreated {
                has_client: true,
                billable: true,
            },
            Event::ProjectUpdated,
            Event::ProjectArchived { archived: false },
            Event::ProjectDeleted,
            Event::TaskCreated {
                priority: "high",
                has_assignee: true,
                has_due_date: false,
            },
            Event::TaskStatusChanged {
                from: "todo",
                to: "done",
            },
            Event::TaskUpdated,
            Event::TaskDeleted,
            Event::TimerStarted {
                has_task: true,
                has_notes: true,
                tag_count: 2,
                stopped_previous: false,
            },
            Event::TimerEdited {
                changed_start: true,
                changed_project: false,
            },
            Event::TimerStopped {
                duration_seconds: 5,
            },
            Event::EntryCreated {
                duration_seconds: 60,
                has_task: false,
                billable: true,
            },
            Event::EntryUpdated {
                duration_seconds: 60,
            },
            Event::EntryDeleted,
            Event::ReportViewed {
                grouping: "project",
                subgrouping: "none",
                range_days: 30,
            },
            Event::ExportRequested { format: "csv" },
            Event::ExportCompleted {
                format: "xlsx",
                rows: 10,
                duration_ms: 5,
            },
            Event::ExportFailed { format: "csv" },
            Event::ApiTokenCreated { has_expiry: false },
            Event::ApiTokenRevoked,
            Event::UserCreated { role: "user" },
            Event::UserUpdated { change: "role" },
            Event::UserDeactivated,
            Event::TelemetryViewed,
            Event::TelemetryChanged {
                channel: "product",
                enabled: true,
            },
            Event::SettingsUpdated {
                changed_keys: vec!["currency"],
            },
        ]
    }

    #[test]
    fn the_catalogue_and_the_event_types_describe_the_same_events_and_properties() {
        let events = one_of_each();
        assert_eq!(events.len(), CATALOGUE.len());
        for (event, spec) in events.iter().zip(CATALOGUE) {
            assert_eq!(event.name(), spec.name, "same order as the catalogue");
            let declared: Vec<_> = spec.properties.iter().map(|(n, _, _)| *n).collect();
            let sent: Vec<_> = event.properties().keys().cloned().collect();
            let mut declared_sorted = declared.clone();
            declared_sorted.sort();
            assert_eq!(
                sent, declared_sorted,
                "{} sends exactly its declared properties",
                spec.name
            );
        }
    }

    #[test]
    fn undeclared_or_out_of_vocabulary_values_are_filtered_out() {
        let ok = Event::TaskStatusChanged {
            from: "todo",
            to: "done",
        }
        .properties();
        assert_eq!(ok.len(), 2);
        let bad = Event::TaskStatusChanged {
            from: "todo",
            to: "secret project name",
        }
        .properties();
        assert_eq!(bad.len(), 1, "a value outside the vocabulary is dropped");
        let keys = Event::SettingsUpdated {
            changed_keys: vec!["currency", "password"],
        }
        .properties();
        assert!(keys.is_empty(), "unknown setting names never leave");
    }

    #[test]
    fn the_committed_events_doc_matches_the_catalogue() {
        let committed = include_str!("../../docs/events.md");
        assert!(
            committed == catalogue_markdown(),
            "docs/events.md is stale: run `cargo run --bin timetracker -- events-doc > docs/events.md`"
        );
    }

    #[test]
    fn row_counts_are_bucketed() {
        assert_eq!(row_bucket(0), "0");
        assert_eq!(row_bucket(42), "1-99");
        assert_eq!(row_bucket(1_000_000), "1000000+");
    }
}
