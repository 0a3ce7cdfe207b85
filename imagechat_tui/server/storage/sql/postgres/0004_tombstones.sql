-- What a delete leaves for the undo window: the deleted marker or comment, whole, until
-- `until` (epoch ms), so that a `restore` op can bring it back as it was
-- (model.Tombstone, by model.tombstone_key). Rows go with the first commit after then.
CREATE TABLE tombstones (
    tenant TEXT NOT NULL,
    room TEXT NOT NULL,
    key TEXT NOT NULL,
    until BIGINT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (tenant, room, key)
);
