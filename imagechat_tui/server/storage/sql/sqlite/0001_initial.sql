-- Rooms, their current chats, the event log (for replays and idempotent retries) and
-- per-tenant usage figures.
CREATE TABLE rooms (
    tenant TEXT NOT NULL,
    room TEXT NOT NULL,
    seq INTEGER NOT NULL DEFAULT 0,
    next_number INTEGER NOT NULL DEFAULT 1,
    pruned_through INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, room)
);
CREATE TABLE chats (
    tenant TEXT NOT NULL,
    room TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (tenant, room, chat_id)
);
CREATE TABLE events (
    tenant TEXT NOT NULL,
    room TEXT NOT NULL,
    seq INTEGER NOT NULL,
    broadcast_id TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (tenant, room, seq)
);
CREATE UNIQUE INDEX events_broadcast ON events (tenant, room, broadcast_id);
CREATE TABLE usage (
    tenant TEXT PRIMARY KEY,
    messages INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0
);
