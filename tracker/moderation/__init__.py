"""Moderation: viewers' flags on videos (`models`, `flags`), which the operator reads and dismisses."""
