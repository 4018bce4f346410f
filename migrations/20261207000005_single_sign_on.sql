-- Single sign-on (OpenID Connect). An account is matched by its provider's
-- issuer and `sub`, never by email alone.
CREATE TABLE user_identities (
    issuer     text        NOT NULL,
    subject    text        NOT NULL,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX user_identities_user ON user_identities (user_id);

-- A sign-in sent to the provider and not back yet: its `state` (as SHA-256),
-- the PKCE verifier and nonce (sealed with a key derived from SECRET_KEY),
-- where it goes on to. Used once; ten minutes.
CREATE TABLE sso_sign_ins (
    state_hash     bytea       PRIMARY KEY,
    secrets_sealed bytea       NOT NULL,
    next           text        NOT NULL,
    expires_at     timestamptz NOT NULL
);

-- The latest refused sign-ins, for the administrators' page: why, and the
-- names (never the values) of the claims the ID token carried.
CREATE TABLE sso_refusals (
    id          bigserial   PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    reason      text        NOT NULL,
    claim_names text[]      NOT NULL DEFAULT '{}'
);
