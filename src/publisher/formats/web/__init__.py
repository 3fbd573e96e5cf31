"""Web distribution: the read-along and catalogue pages, podcast feeds, OPDS and the preview server."""
