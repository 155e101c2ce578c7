"""Fixtures of the voice tests: two real corpus papers with hard words and numbers."""

from __future__ import annotations

import pytest

from tests.support.voices import Paper, corpus_paper


@pytest.fixture(scope="session")
def paper() -> Paper:
    """HalluCiteChecker (2604.26835): plain sentences with AI, NLP, CPUs, PyPI in them."""
    return corpus_paper("2604.26835")


@pytest.fixture(scope="session")
def numbers_paper() -> Paper:
    """SPIN (2604.26837): ranges, multipliers, percentages and acronyms."""
    return corpus_paper("2604.26837")
