"""Book formats: the EPUB 3 editions (text and read-aloud), DAISY 2.02 and the audiobook packages."""
