"""Allows `python -m publisher`."""

from publisher.cli import main

main()
