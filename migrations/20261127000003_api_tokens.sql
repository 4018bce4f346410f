-- Personal API tokens: shown once, stored as SHA-256, named, optionally expiring, revocable.
CREATE TABLE api_tokens (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    token_hash   bytea       NOT NULL UNIQUE,
    -- The first characters, so users can tell their tokens apart.
    prefix       text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_tokens_user_id ON api_tokens (user_id);
