"""`python -m radio` is the `radio` command."""

from radio.cli import main

main()
