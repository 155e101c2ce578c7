"""Playout: the station's clock and its live outputs.

- `timeline`: the never-stopping audio timeline (show order, fallback, idents);
- `sounds`: the PCM format, the generated music bed and ident;
- `outputs`: ffmpeg children for Icecast and RTMP, and the onair/ files for OBS;
- `visuals`: licence-aware pictures and the video's stills.
"""
