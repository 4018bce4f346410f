-- People: a display name, and one-time password reset links made by an
-- administrator (the database keeps only the link token's SHA-256).
ALTER TABLE users ADD COLUMN display_name text NOT NULL DEFAULT ''
    CHECK (char_length(display_name) <= 100);

CREATE TABLE password_resets (
    token_hash bytea       PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_by bigint      REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX password_resets_user_id ON password_resets (user_id);
