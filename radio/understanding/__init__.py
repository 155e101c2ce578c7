"""Understanding papers: grounded summaries, grounding checks, the embeddings index."""
