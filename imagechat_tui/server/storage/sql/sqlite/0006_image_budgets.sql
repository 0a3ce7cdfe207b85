-- Image budgets (server/image_quota.py): who stored each image first, and the bytes each
-- user's uploads sent, per tenant and minute (the bucket is the minute's start in Unix
-- seconds; the hourly budgets sum the last 60), so both hold across restarts and nodes.
ALTER TABLE images ADD COLUMN uploaded_by TEXT NOT NULL DEFAULT '';
CREATE INDEX images_uploaded_by ON images (tenant, uploaded_by);
CREATE TABLE upload_buckets (
    tenant TEXT NOT NULL,
    user_id TEXT NOT NULL,
    bucket BIGINT NOT NULL,
    bytes BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, user_id, bucket)
);
