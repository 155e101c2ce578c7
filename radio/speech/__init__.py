"""Speech, not the voices (those are radio.backends.tts): the text normalization before
synthesis, the one audio format of a voiced line, and the ASR intelligibility check."""
