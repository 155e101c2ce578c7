"""What the voices say: text normalization before synthesis, and intelligibility checks."""
