"""Federation: asking peer trackers about a video this tracker does not know (`lookup`)."""
