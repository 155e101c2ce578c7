-- 2: which papers each written show covered (for revisions, "latest" and deep dives)
CREATE TABLE show_papers (
    show_id TEXT NOT NULL,
    arxiv_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    mode TEXT NOT NULL,               -- discussion, headline, revision, brief, theme
    PRIMARY KEY (show_id, arxiv_id)
);
CREATE INDEX show_papers_paper ON show_papers(arxiv_id);

