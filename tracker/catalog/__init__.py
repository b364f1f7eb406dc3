"""The catalog: the videos this tracker lists (`models`, `search`), the public read API (`views`)
and placement of new uploads on an edge (`placement`)."""
