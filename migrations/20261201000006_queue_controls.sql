-- Paused queues. A row means paused: every worker process reads this table
-- once a heartbeat and starts no job of a paused queue (new jobs are still
-- accepted; a job already running finishes). Deleting the row resumes.
CREATE TABLE queue_pauses (
    queue      text        PRIMARY KEY,
    paused_at  timestamptz NOT NULL DEFAULT now(),
    paused_by  bigint      REFERENCES users (id) ON DELETE SET NULL
);

-- Worker processes, one row each, beaten by the process every heartbeat
-- (apalis registers one worker per queue, which says nothing of the host,
-- the process or when it started). Its apalis workers are named
-- `<name>/<queue>` (`/<restart>` after a restart). Pruned by maintenance.
CREATE TABLE worker_processes (
    name        text        PRIMARY KEY,
    host        text        NOT NULL,
    pid         integer     NOT NULL,
    queues      text[]      NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz NOT NULL DEFAULT now()
);

-- The audit trail knows the queue controls too.
ALTER TABLE job_actions DROP CONSTRAINT job_actions_action_check;
ALTER TABLE job_actions ADD CONSTRAINT job_actions_action_check
    CHECK (action IN ('retry', 'discard', 'cancel', 'pause', 'resume', 'drain'));
