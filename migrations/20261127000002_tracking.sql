-- Time tracking: settings, clients, projects, tasks and time entries.
-- Money is integer cents, durations integer seconds, instants timestamptz.

-- Admin settings that drive behaviour (a single row).
CREATE TABLE settings (
    id                    smallint    PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    currency              text        NOT NULL DEFAULT 'EUR' CHECK (currency ~ '^[A-Z]{3}$'),
    -- Applied at report time only, never to stored entries. 0 = no rounding.
    rounding_minutes      integer     NOT NULL DEFAULT 0 CHECK (rounding_minutes IN (0, 1, 5, 6, 10, 15, 30)),
    -- What starting a timer does while another one runs.
    timer_policy          text        NOT NULL DEFAULT 'stop_previous' CHECK (timer_policy IN ('stop_previous', 'refuse')),
    allow_overlaps        boolean     NOT NULL DEFAULT false,
    week_start            text        NOT NULL DEFAULT 'monday' CHECK (week_start IN ('monday', 'sunday')),
    export_delimiter      text        NOT NULL DEFAULT ',' CHECK (export_delimiter IN (',', ';', 'tab')),
    long_timer_hours      integer     NOT NULL DEFAULT 12 CHECK (long_timer_hours BETWEEN 1 AND 24),
    auto_stop_long_timers boolean     NOT NULL DEFAULT false,
    updated_at            timestamptz NOT NULL DEFAULT now()
);
INSERT INTO settings DEFAULT VALUES;

CREATE TABLE clients (
    id                        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                      text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    contact_name              text        NOT NULL DEFAULT '' CHECK (char_length(contact_name) <= 200),
    email                     text        NOT NULL DEFAULT '' CHECK (char_length(email) <= 254),
    phone                     text        NOT NULL DEFAULT '' CHECK (char_length(phone) <= 50),
    default_hourly_rate_cents bigint      CHECK (default_hourly_rate_cents >= 0),
    archived                  boolean     NOT NULL DEFAULT false,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX clients_name_lower_key ON clients (lower(name));

CREATE TABLE projects (
    id                bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name              text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    client_id         bigint      REFERENCES clients (id) ON DELETE RESTRICT,
    billable          boolean     NOT NULL DEFAULT true,
    hourly_rate_cents bigint      CHECK (hourly_rate_cents >= 0),
    estimated_seconds bigint      CHECK (estimated_seconds >= 0),
    archived          boolean     NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX projects_name_lower_key ON projects (lower(name));
CREATE INDEX projects_client_id ON projects (client_id);

CREATE TABLE tasks (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id  bigint      NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name        text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    status      text        NOT NULL DEFAULT 'todo' CHECK (status IN ('todo', 'in_progress', 'done')),
    priority    text        NOT NULL DEFAULT 'medium' CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
    assignee_id bigint      REFERENCES users (id) ON DELETE SET NULL,
    due_date    date,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tasks_project_id ON tasks (project_id);
CREATE INDEX tasks_assignee_id ON tasks (assignee_id);

CREATE TABLE time_entries (
    id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id          bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id       bigint      NOT NULL REFERENCES projects (id) ON DELETE RESTRICT,
    task_id          bigint      REFERENCES tasks (id) ON DELETE SET NULL,
    started_at       timestamptz NOT NULL,
    -- NULL while the timer runs.
    ended_at         timestamptz,
    duration_seconds bigint      GENERATED ALWAYS AS (extract(epoch FROM ended_at - started_at)::bigint) STORED,
    notes            text        NOT NULL DEFAULT '' CHECK (char_length(notes) <= 5000),
    tags             text[]      NOT NULL DEFAULT '{}',
    billable         boolean     NOT NULL,
    source           text        NOT NULL CHECK (source IN ('timer', 'manual')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (ended_at IS NULL OR ended_at > started_at),
    CHECK (ended_at IS NULL OR ended_at - started_at <= interval '24 hours')
);
-- At most one running timer per user, whatever the application does.
CREATE UNIQUE INDEX time_entries_one_running_per_user ON time_entries (user_id) WHERE ended_at IS NULL;
CREATE INDEX time_entries_user_started ON time_entries (user_id, started_at DESC, id DESC);
CREATE INDEX time_entries_started ON time_entries (started_at);
CREATE INDEX time_entries_project_started ON time_entries (project_id, started_at);
CREATE INDEX time_entries_task_id ON time_entries (task_id);
CREATE INDEX time_entries_tags ON time_entries USING gin (tags);
