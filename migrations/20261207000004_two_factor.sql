-- Two-factor sign-in (TOTP). A user's seed is sealed with a key derived from
-- SECRET_KEY (auth::keys::Keys::seal), never stored in the clear;
-- `confirmed_at` is NULL while they enrol. `last_step` is the time step of
-- the last code accepted: a code is good once (no replay within its window).
CREATE TABLE two_factor (
    user_id      bigint      PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    seed_sealed  bytea       NOT NULL,
    confirmed_at timestamptz,
    last_step    bigint      NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Ten one-time recovery codes per enrolment, stored as SHA-256 (each has 50
-- random bits).
CREATE TABLE recovery_codes (
    user_id   bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash bytea       NOT NULL,
    used_at   timestamptz,
    PRIMARY KEY (user_id, code_hash)
);

-- A sign-in whose password was right and whose second step (a code, or
-- enrolling when the installation requires it) is still due. The browser
-- holds the token (a cookie); it lives five minutes.
CREATE TABLE sign_in_challenges (
    token_hash bytea       PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    next       text        NOT NULL,
    expires_at timestamptz NOT NULL
);

-- Whether administrators and managers must sign in with a second factor.
ALTER TABLE settings ADD COLUMN require_two_factor boolean NOT NULL DEFAULT false;
