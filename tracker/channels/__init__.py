"""Channels: creators' Ed25519 keys, and what they sign (README.md, channels). The channel table
(`models`), creating and reading channels (`views`), a channel's edits and deletions of its videos
(`edits`), the operator's takedowns and blocks (`moderation`), and `python -m tracker channel` (`cli`)."""
