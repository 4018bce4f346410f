//! The event catalogue: every product event the app can emit, with the only
//! properties it may carry.
//!
//! Rules: each event is declared once, in the `events!` block below: a
//! variant of [`Event`] named `resource.action` whose properties are its
//! typed fields (booleans, counts, durations, buckets and fixed
//! vocabularies), never names, notes, emails, URLs or other free text.
//! [`CATALOGUE`] is generated from the same block, [`Event::properties`]
//! drops any value outside its declared kind, and `docs/events.md` is
//! generated from the catalogue (`timetracker events-doc`), with a test that
//! fails when it is stale.

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
const SUBGROUPS: &[&str] = &["none", "project", "client", "user", "task", "day"];
const FORMATS: &[&str] = &["csv", "xlsx", "pdf"];
const LAYOUTS: &[&str] = &["entries", "summary"];
const INVOICE_GROUPINGS: &[&str] = &["project", "task", "entry"];
const TASK_STATUSES: &[&str] = &["todo", "in_progress", "done"];
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
    "require_two_factor",
];

/// Declares every event once: its variant, its `resource.action` name, when
/// it happens, and each property's field, Rust type, documented kind and
/// meaning. [`Event`], [`Event::name`], the raw properties and
/// [`CATALOGUE`] (and from it `docs/events.md` and the consent test's list)
/// are all generated from this one declaration. A property is the field of
/// the same name, so an event cannot send a property it does not declare.
macro_rules! events {
    ($(
        $variant:ident = $name:literal, when $when:literal
        $({ $($field:ident: $ty:ty => $kind:expr, $meaning:literal;)* })?
    )*) => {
        /// Every event, in documentation order.
        pub const CATALOGUE: &[Spec] = &[$(
            Spec {
                name: $name,
                when: $when,
                properties: &[$($((stringify!($field), $kind, $meaning)),*)?],
            },
        )*];

        /// An event with its typed properties.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Event {
            $($variant $({ $($field: $ty),* })?,)*
        }

        impl Event {
            /// The `resource.action` name.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Event::$variant { .. } => $name,)*
                }
            }

            fn raw_properties(&self) -> Map<String, Value> {
                match self {
                    $(
                        #[allow(unused_mut)]
                        Event::$variant $({ $($field),* })? => {
                            let mut properties = Map::new();
                            $($(properties.insert(stringify!($field).to_owned(), json!($field));)*)?
                            properties
                        }
                    )*
                }
            }
        }
    };
}

events! {
    SetupCompleted = "setup.completed", when "the first-run setup created the first administrator" {
        telemetry_enabled: bool => Kind::Bool, "whether install telemetry was chosen";
    }
    Login = "auth.login", when "a user signed in" {
        auth_method: &'static str => Kind::OneOf(&["password", "password_and_code", "password_and_recovery_code", "sso"]), "how";
    }
    Logout = "auth.logout", when "a user signed out"
    ClientCreated = "client.created", when "an administrator created a client" {
        has_rate: bool => Kind::Bool, "a default hourly rate was given";
    }
    ClientUpdated = "client.updated", when "an administrator edited a client"
    ClientArchived = "client.archived", when "an administrator archived (or restored) a client" {
        archived: bool => Kind::Bool, "the new state";
    }
    ClientDeleted = "client.deleted", when "an administrator deleted a client"
    ProjectCreated = "project.created", when "an administrator created a project" {
        has_client: bool => Kind::Bool, "the project belongs to a client";
        billable: bool => Kind::Bool, "the project is billable";
    }
    ProjectUpdated = "project.updated", when "an administrator edited a project"
    ProjectArchived = "project.archived", when "an administrator archived (or restored) a project" {
        archived: bool => Kind::Bool, "the new state";
    }
    ProjectDeleted = "project.deleted", when "an administrator deleted a project"
    TaskCreated = "task.created", when "an administrator created a task" {
        priority: &'static str => Kind::OneOf(&["low", "medium", "high", "urgent"]), "its priority";
        has_assignee: bool => Kind::Bool, "someone is assigned";
        has_due_date: bool => Kind::Bool, "a due date was set";
    }
    TaskStatusChanged = "task.status_changed", when "a task moved to another status" {
        from: &'static str => Kind::OneOf(TASK_STATUSES), "the old status";
        to: &'static str => Kind::OneOf(TASK_STATUSES), "the new status";
    }
    TaskUpdated = "task.updated", when "an administrator edited a task (name, priority, assignee, due date or project)"
    TaskDeleted = "task.deleted", when "an administrator deleted a task"
    TimerStarted = "timer.started", when "a timer was started or restarted" {
        has_task: bool => Kind::Bool, "a task was chosen";
        has_notes: bool => Kind::Bool, "notes were typed (their text is never sent)";
        tag_count: usize => Kind::Count, "how many tags";
        stopped_previous: bool => Kind::Bool, "a running timer was stopped by this start";
    }
    TimerEdited = "timer.edited", when "a user changed their running timer in place" {
        changed_start: bool => Kind::Bool, "its start time was moved";
        changed_project: bool => Kind::Bool, "it was moved to another project";
    }
    TimerStopped = "timer.stopped", when "a running timer was stopped" {
        duration_seconds: i64 => Kind::Seconds, "how long it ran";
    }
    EntryCreated = "time_entry.created", when "an entry was added by hand" {
        duration_seconds: i64 => Kind::Seconds, "its length";
        has_task: bool => Kind::Bool, "a task was chosen";
        billable: bool => Kind::Bool, "it is billable";
    }
    EntryUpdated = "time_entry.updated", when "an entry was edited" {
        duration_seconds: i64 => Kind::Seconds, "its new length";
    }
    EntryDeleted = "time_entry.deleted", when "an entry was deleted"
    TimesheetSaved = "timesheet.saved", when "a user saved cells of their weekly timesheet (one event per save, however many cells)" {
        cells_changed: usize => Kind::Count, "how many cells changed";
        entries_created: usize => Kind::Count, "entries added";
        entries_resized: usize => Kind::Count, "entries made longer or shorter";
        entries_deleted: usize => Kind::Count, "entries removed (a cell set to zero)";
    }
    ReportViewed = "report.viewed", when "a summary report was shown (page or API)" {
        report_type: &'static str => Kind::OneOf(&["summary"]), "which report";
        grouping: &'static str => Kind::OneOf(GROUPS), "the first grouping";
        subgrouping: &'static str => Kind::OneOf(SUBGROUPS), "the second grouping";
        range_days: i64 => Kind::Count, "how many days it covers";
    }
    ExportRequested = "export.requested", when "a background export was requested" {
        format: &'static str => Kind::OneOf(FORMATS), "file format";
        layout: &'static str => Kind::OneOf(LAYOUTS), "every entry, or the report's grouped summary";
    }
    ExportCompleted = "export.completed", when "a background export was built" {
        format: &'static str => Kind::OneOf(FORMATS), "file format";
        row_count_bucket: &'static str => Kind::OneOf(ROW_BUCKETS), "how many rows, coarsely";
        duration_ms: i64 => Kind::Milliseconds, "how long the build took";
    }
    ExportFailed = "export.failed", when "a background export could not be built" {
        format: &'static str => Kind::OneOf(FORMATS), "file format";
    }
    ApiTokenCreated = "api_token.created", when "a user created an API token" {
        has_expiry: bool => Kind::Bool, "the token expires";
    }
    ApiTokenRevoked = "api_token.revoked", when "a user revoked an API token"
    UserCreated = "admin.user_created", when "an administrator created a user" {
        role: &'static str => Kind::OneOf(&crate::domain::Role::NAMES), "the new user's role";
    }
    UserUpdated = "admin.user_updated", when "an administrator changed a user's role, name or email, made a password reset link, or reactivated them" {
        change: &'static str => Kind::OneOf(&["role", "profile", "password_reset", "reactivated"]), "what changed";
    }
    UserDeactivated = "admin.user_deactivated", when "an administrator deactivated a user"
    TwoFactorEnabled = "two_factor.enabled", when "a user confirmed a second factor (an authenticator app)" {
        at_sign_in: bool => Kind::Bool, "enrolled at sign-in because the installation requires it";
    }
    TwoFactorDisabled = "two_factor.disabled", when "a second factor was removed" {
        by_admin: bool => Kind::Bool, "an administrator reset it (else its owner switched it off)";
    }
    InvitationSent = "invitation.sent", when "an administrator or manager invited someone by email, or resent an open invitation" {
        role: &'static str => Kind::OneOf(&crate::domain::Role::NAMES), "the role invited into";
        resent: bool => Kind::Bool, "a resend, with a new link";
    }
    InvitationAccepted = "invitation.accepted", when "an invited person made their account from the link (the new user's event)" {
        role: &'static str => Kind::OneOf(&crate::domain::Role::NAMES), "the new user's role";
    }
    TelemetryViewed = "admin.telemetry_viewed", when "an administrator opened the Telemetry page"
    TelemetryChanged = "admin.telemetry_changed", when "an administrator switched a telemetry channel" {
        channel: &'static str => Kind::OneOf(&["product", "install"]), "which channel";
        enabled: bool => Kind::Bool, "the new state";
    }
    SettingsUpdated = "admin.settings_updated", when "an administrator saved settings" {
        changed_keys: Vec<&'static str> => Kind::KeyList, "which settings changed (never their values)";
    }
    InvoiceCreated = "invoice.created", when "an administrator or manager made a draft invoice from unbilled time" {
        grouping: &'static str => Kind::OneOf(INVOICE_GROUPINGS), "one line per project, task or entry";
        line_count_bucket: &'static str => Kind::OneOf(ROW_BUCKETS), "how many lines, coarsely";
    }
    InvoiceIssued = "invoice.issued", when "a draft invoice got its number and froze its entries" {
        tax_rates: i64 => Kind::Count, "how many different tax rates its lines have";
        discounted: bool => Kind::Bool, "whether it has a discount";
    }
    InvoicePaid = "invoice.paid", when "an issued invoice was marked paid"
    InvoiceCancelled = "invoice.cancelled", when "an issued or paid invoice was cancelled, freeing its entries" {
        was_paid: bool => Kind::Bool, "whether it had been marked paid";
    }
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
    /// The properties, filtered to the declared vocabularies (the privacy
    /// filter: a value outside its kind never leaves).
    pub fn properties(&self) -> Map<String, Value> {
        let spec = CATALOGUE.iter().find(|s| s.name == self.name());
        self.raw_properties()
            .into_iter()
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

    #[test]
    fn every_role_is_a_role_the_user_created_event_may_carry() {
        for role in crate::domain::Role::ALL {
            let props = Event::UserCreated {
                role: role.as_str(),
            }
            .properties();
            assert_eq!(props["role"], role.as_str(), "{role:?} dropped");
        }
    }

    #[test]
    fn event_names_are_unique_and_read_resource_dot_action() {
        let mut names: Vec<_> = CATALOGUE.iter().map(|s| s.name).collect();
        for name in &names {
            let (resource, action) = name.split_once('.').expect("resource.action");
            assert!(!resource.is_empty() && !action.is_empty(), "{name}");
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), CATALOGUE.len(), "no name is declared twice");
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
