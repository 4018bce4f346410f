-- Core tables of the foundation: the single installation row, users, sessions
-- and the login throttle. Instants are timestamptz (UTC on the wire).

CREATE TABLE installation (
    id                   smallint    PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    install_id           uuid        NOT NULL,
    -- Used for sessions, CSRF and keyed hashes when SECRET_KEY is not set.
    secret_key           text        NOT NULL,
    -- One-time token that guards /setup; cleared when setup completes.
    setup_token          text,
    setup_completed_at   timestamptz,
    telemetry_consent    boolean     NOT NULL DEFAULT false,
    telemetry_consent_at timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      text        NOT NULL CHECK (char_length(username) BETWEEN 1 AND 64),
    email         text        NOT NULL CHECK (char_length(email) BETWEEN 3 AND 254),
    password_hash text        NOT NULL,
    role          text        NOT NULL CHECK (role IN ('admin', 'user')),
    active        boolean     NOT NULL DEFAULT true,
    timezone      text        NOT NULL DEFAULT 'UTC',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));
CREATE INDEX users_active_admins ON users (id) WHERE role = 'admin' AND active;

-- The cookie holds a random token; only its SHA-256 is stored, so a copy of
-- this table cannot be replayed as cookies.
CREATE TABLE sessions (
    token_hash   bytea       PRIMARY KEY,
    user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Failed login attempts per key (a hashed account name or a client address),
-- shared by every web replica.
CREATE TABLE login_throttle (
    key          text        PRIMARY KEY,
    failures     integer     NOT NULL,
    window_start timestamptz NOT NULL
);
