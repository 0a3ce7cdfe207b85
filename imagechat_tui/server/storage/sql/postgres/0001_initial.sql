-- Rooms, their current chats, the event log (for replays and idempotent retries) and
-- per-tenant usage figures.
CREATE TABLE rooms (
    tenant TEXT NOT NULL,
    room TEXT NOT NULL,
    seq BIGINT NOT NULL DEFAULT 0,
    next_number BIGINT NOT NULL DEFAULT 1,
    pruned_through BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, room)
);
CREATE TABLE chats (
    tenant TEXT NOT NULL,
    room TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    number BIGINT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (tenant, room, chat_id)
);
CREATE TABLE events (
    tenant TEXT NOT NULL,
    room TEXT NOT NULL,
    seq BIGINT NOT NULL,
    broadcast_id TEXT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (tenant, room, seq)
);
CREATE UNIQUE INDEX events_broadcast ON events (tenant, room, broadcast_id);
CREATE TABLE usage (
    tenant TEXT PRIMARY KEY,
    messages BIGINT NOT NULL DEFAULT 0,
    bytes BIGINT NOT NULL DEFAULT 0
);
