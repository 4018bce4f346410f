-- Every run of every job, written by the worker's runner: apalis keeps only
-- the last result. Pruned with the jobs (a row whose job is gone goes too).
CREATE TABLE job_attempts (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- apalis.jobs.id; no foreign key, so pruning jobs never waits on this table.
    job_id       text        NOT NULL,
    queue        text        NOT NULL,
    attempt      integer     NOT NULL,
    worker       text        NOT NULL,
    -- When the job was due for this run (whole seconds, as apalis stores it).
    due_at       timestamptz,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    outcome      text        CHECK (outcome IN ('ok', 'retried', 'dead')),
    error        text        CHECK (char_length(error) <= 2000)
);
CREATE INDEX job_attempts_job ON job_attempts (job_id, attempt);
CREATE INDEX job_attempts_started ON job_attempts (started_at);

-- The console's job list, newest first, read by keyset.
CREATE INDEX jobs_console_order ON apalis.jobs ((coalesce(done_at, run_at)) DESC, id DESC);

-- What administrators did to jobs (retry, discard, cancel; one or in bulk),
-- for the console's audit trail.
CREATE TABLE job_actions (
    id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    admin_id  bigint      REFERENCES users (id) ON DELETE SET NULL,
    action    text        NOT NULL CHECK (action IN ('retry', 'discard', 'cancel')),
    -- The job, or the selection (`queue=report_export state=dead`).
    target    text        NOT NULL,
    jobs      bigint      NOT NULL,
    at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_actions_at ON job_actions (at DESC);
