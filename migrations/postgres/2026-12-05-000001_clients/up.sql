-- Service accounts: machines (a district's SIS, a data office's scripts) that get tokens from
-- POST /oauth/token with a client id and secret (OAuth 2 client credentials).
--
-- The secret is never stored: `secret_hash` holds its Argon2id PHC string. `scopes` is a
-- space-separated list within the role's set, or NULL for the role's full set. A revoked
-- client keeps its row (`revoked_at`), so the audit log and the change feed keep naming it.
CREATE TABLE clients (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    scopes TEXT,
    secret_hash TEXT NOT NULL,
    created_by TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
-- A school's clients in id (creation) order, for the keyset-paginated list.
CREATE INDEX clients_school_id ON clients (school_id, id);
