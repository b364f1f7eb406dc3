"""Home edges (issue 18): STUN for both ends, the edges' signalling sockets, viewers' connects through
them, and audits of copies held by edges reachable only over WebRTC (README.md, "Home edges")."""
