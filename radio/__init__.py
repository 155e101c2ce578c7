"""Paper Radio: a 24/7 station that reads the newest AI papers on arXiv and talks about them."""

import sys

__version__ = "0.1.0"

# PyMuPDF 2 imports its layout-analysis add-on (an ONNX model) whenever it is installed,
# which it always is (a dependency). The station never uses it: blocking the import saves
# ~50 MB and ~0.7 s in every process that opens a PDF (each parse runs in a fresh child).
sys.modules.setdefault("pymupdf.layout", None)  # type: ignore[arg-type]
