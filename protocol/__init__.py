"""The network's contract: the rules every edge, tracker and website follows.

Content ids and canonical JSON (`ids`), the manifest that lists every file of a video (`manifest`),
Ed25519 keys and signed documents (`signing`), upload tickets (`tickets`). It imports no role:
segmenter, edge and tracker import it, never the other way round.
"""
