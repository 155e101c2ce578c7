-- 4: the playout instance that airs a segment claims it first, so two instances on one
-- database never air the same line (claimed_by: worker/instance, claimed_at: when).
ALTER TABLE segments ADD COLUMN claimed_by TEXT;
ALTER TABLE segments ADD COLUMN claimed_at TEXT;
