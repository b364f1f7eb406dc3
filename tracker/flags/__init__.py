"""Flags: viewers tell the operator what is wrong with a video (`models`); the API to flag, and the operator's
list and dismissal (`views`)."""
