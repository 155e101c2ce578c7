"""Getting papers in: polite HTTP to arXiv and its API/RSS/OAI sources, PDF downloads
(the fetcher's half), and reading PDFs into text, sections and page images (the pdf
worker's half)."""
