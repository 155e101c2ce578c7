"""Getting papers in: polite HTTP to arXiv, its API/RSS/OAI sources, PDF downloads."""
