-- The rows a user put on a week of the timesheet (by "add row" or "copy last
-- week"), so a row stays on the grid while its cells are still empty. Rows
-- with entries show up without one.
CREATE TABLE timesheet_rows (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    week_start  date        NOT NULL,
    project_id  bigint      NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    task_id     bigint      REFERENCES tasks (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX timesheet_rows_one_per_row
    ON timesheet_rows (user_id, week_start, project_id, coalesce(task_id, 0));

-- A report's filters under a name, per user, to open again from a list.
CREATE TABLE saved_reports (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    -- The report's filters (`reports::ReportQuery`), as exports store them.
    params      jsonb       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX saved_reports_name_per_user ON saved_reports (user_id, lower(name));
