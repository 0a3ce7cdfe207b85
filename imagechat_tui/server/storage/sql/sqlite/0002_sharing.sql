-- Shared images (checked on upload: a real image within the limits), the image each
-- shared room shows, and invites (the code is stored only as its SHA-256).
CREATE TABLE images (
    tenant TEXT NOT NULL,
    digest TEXT NOT NULL,
    mime TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    size INTEGER NOT NULL,
    data BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, digest)
);
CREATE TABLE room_images (
    tenant TEXT NOT NULL,
    room TEXT NOT NULL,
    digest TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tenant, room)
);
CREATE INDEX room_images_digest ON room_images (tenant, digest);
CREATE TABLE invites (
    code_hash TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    room TEXT NOT NULL,
    role TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    max_uses INTEGER NOT NULL,
    uses INTEGER NOT NULL DEFAULT 0,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX invites_tenant ON invites (tenant, created_at);
