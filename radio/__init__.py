"""Paper Radio: a 24/7 station that reads the newest AI papers on arXiv and talks about them."""

__version__ = "0.1.0"
