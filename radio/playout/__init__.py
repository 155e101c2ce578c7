"""Playout: the station's clock and its live outputs.

- `timeline`: the never-stopping audio timeline (show order, fallback, idents);
- `sounds`: the PCM format, the generated music bed and ident;
- `supervise`: an ffmpeg child fed PCM, restarted with back-off (every audio output);
- `icecast`, `rtmp`, `listeners`: the outputs (Icecast source, RTMP video, mp3 over HTTP);
- `screen`: the stage still and the onair/ files for OBS;
- `visuals`: licence-aware pictures and the video's stills.
"""
