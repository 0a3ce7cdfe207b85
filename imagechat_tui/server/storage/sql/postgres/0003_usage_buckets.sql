-- Usage over time, for the dashboard and `stats --since`: per tenant and minute (the
-- bucket is the minute's start in Unix seconds), added to by every node's flush, so the
-- figures survive restarts and sum across nodes. Connections are each node's peak in the
-- minute; a minute's figure is the sum over nodes.
CREATE TABLE usage_buckets (
    tenant TEXT NOT NULL,
    bucket BIGINT NOT NULL,
    messages BIGINT NOT NULL DEFAULT 0,
    bytes BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, bucket)
);
CREATE TABLE connection_buckets (
    tenant TEXT NOT NULL,
    bucket BIGINT NOT NULL,
    node TEXT NOT NULL,
    connections BIGINT NOT NULL,
    PRIMARY KEY (tenant, bucket, node)
);
