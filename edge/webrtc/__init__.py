"""A home edge's WebRTC side (README.md, "Home edges"): the signalling socket to each tracker
(`signalling`), one peer connection per viewer's offer (`peers`), the files served over its data channel
(`files`), all on one asyncio loop in the process that runs the background threads (`service`)."""
