-- Feature flags: the admin's choice and the last good value evaluated by
-- PostHog (cached by the worker; requests never call PostHog).
CREATE TABLE feature_flags (
    name         text        PRIMARY KEY,
    admin_value  boolean,
    remote_value boolean,
    remote_at    timestamptz
);
