"""Backends behind small interfaces: LLM, embedder, TTS, ..."""
