-- 5: an inbox row belongs to one instance of its worker (owner: the instance name) while
-- its lease runs (lease_until, renewed by the live owner's heartbeat). A duplicate that
-- reaches another instance is dropped; a dead instance's pending rows are taken over once
-- the lease has run out. Rows from before have no owner: any instance may take them.
ALTER TABLE inbox ADD COLUMN owner TEXT;
ALTER TABLE inbox ADD COLUMN lease_until TEXT;
CREATE INDEX inbox_owner ON inbox(worker, owner, status);
