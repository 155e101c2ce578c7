-- 3: papers an operator asked for (`radio ingest`, the fetcher's `fetch` command): the
-- daily and latest shows take them whatever their categories. Before this, only those
-- paths wrote papers with source 'local' (a PDF) or 'api' (ids); polls write 'rss'.
ALTER TABLE papers ADD COLUMN by_hand INTEGER NOT NULL DEFAULT 0;
UPDATE papers SET by_hand = 1 WHERE source IN ('local', 'api');

