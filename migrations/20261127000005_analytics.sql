-- Product analytics: the admin switch, per-user opt-out, the outbox of events
-- waiting for delivery to the operator's PostHog, and a log of what was sent.
ALTER TABLE installation
    ADD COLUMN analytics_enabled    boolean NOT NULL DEFAULT false,
    ADD COLUMN analytics_changed_at timestamptz,
    -- Set when PostHog refused our key (401/403); cleared by the next success.
    ADD COLUMN analytics_error      text,
    ADD COLUMN analytics_error_at   timestamptz;

ALTER TABLE users ADD COLUMN analytics_opt_out boolean NOT NULL DEFAULT false;

CREATE TABLE analytics_events (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- UUIDv7 and timestamp fixed at enqueue: PostHog deduplicates retries on them.
    uuid            uuid        NOT NULL UNIQUE,
    event           text        NOT NULL,
    -- Local only: the worker sends a keyed hash, never this id.
    user_id         bigint,
    properties      jsonb       NOT NULL,
    occurred_at     timestamptz NOT NULL,
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead', 'discarded')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    sent_at         timestamptz
);
CREATE INDEX analytics_events_due ON analytics_events (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX analytics_events_status ON analytics_events (status);

-- The last payloads actually sent, as sent, for the admin telemetry page.
CREATE TABLE analytics_deliveries (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel    text        NOT NULL,
    sent_at    timestamptz NOT NULL DEFAULT now(),
    status     integer,
    events     integer     NOT NULL,
    result     text        NOT NULL,
    payload    jsonb       NOT NULL
);
CREATE INDEX analytics_deliveries_sent_at ON analytics_deliveries (sent_at DESC);
