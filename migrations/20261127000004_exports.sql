-- Background exports. The file lives in PostgreSQL (web and worker may run on
-- different hosts), split into chunks so neither side holds it whole.
CREATE TABLE exports (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    format      text        NOT NULL CHECK (format IN ('csv', 'xlsx')),
    -- The report filters, as given (reports::ReportQuery), and the viewer's timezone.
    params      jsonb       NOT NULL,
    timezone    text        NOT NULL,
    status      text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'failed', 'expired')),
    rows_done   bigint      NOT NULL DEFAULT 0,
    rows_total  bigint,
    byte_size   bigint,
    duration_ms bigint,
    error       text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    started_at  timestamptz,
    finished_at timestamptz
);
CREATE INDEX exports_user_created ON exports (user_id, created_at DESC);
CREATE INDEX exports_finished ON exports (finished_at) WHERE status IN ('done', 'failed');

CREATE TABLE export_chunks (
    export_id bigint  NOT NULL REFERENCES exports (id) ON DELETE CASCADE,
    seq       integer NOT NULL,
    data      bytea   NOT NULL,
    PRIMARY KEY (export_id, seq)
);
