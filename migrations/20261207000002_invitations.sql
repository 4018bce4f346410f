-- Invitations by email: an administrator invites an address with a role;
-- the worker sends the link (its token is made when the message is sent,
-- stored here as its SHA-256, and replaced by a resend); the invitee sets
-- a username and password with it and gets an account with that role.
CREATE TABLE invitations (
    id               bigserial   PRIMARY KEY,
    email            text        NOT NULL CHECK (char_length(email) BETWEEN 3 AND 254),
    role             text        NOT NULL CHECK (role IN ('admin', 'user')),
    invited_by       bigint      REFERENCES users (id) ON DELETE SET NULL,
    token_hash       bytea       UNIQUE,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    expires_at       timestamptz NOT NULL,
    accepted_at      timestamptz,
    accepted_user_id bigint      REFERENCES users (id) ON DELETE SET NULL,
    revoked_at       timestamptz
);

-- One open invitation per address.
CREATE UNIQUE INDEX invitations_open_email ON invitations (lower(email))
    WHERE accepted_at IS NULL AND revoked_at IS NULL;
