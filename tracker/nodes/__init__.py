"""The node ledger: which edges exist and what they hold. Signed announces (`edge_announce`, not
to be confused with BitTorrent's /announce), their URLs (`urls`), registrations of published videos
(`registration`), replicas and hand-overs (`replication`), players' failure reports (`reports`)."""
