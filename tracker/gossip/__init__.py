"""One network of trackers (README.md, "One network"): each tracker's catalog change feed
(`feed`), the checks a peer's change must pass (`records`), and the thread that follows the peers'
feeds into this tracker's catalog (`follow`)."""
