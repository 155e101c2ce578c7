"""Podcast episodes: from a show's voiced lines to an mp3 with chapters and a transcript.

`episode.record_episode` is the entry point; `assemble` lays out and encodes the audio,
`chapters`, `transcript` and `tags` write what players read, `cover` and `stings` are
the station's own art and sound.
"""
