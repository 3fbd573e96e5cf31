"""The data every stage passes on: the Publication, the narration timeline, and the output layout."""
