"""Text helpers shared by every stage, one concern per module: clean (XML safety, white space,
spoken text), languages (BCP 47 tags, scripts, direction), sentences (splitting), slugs, dates."""
