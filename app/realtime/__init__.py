"""Live events: the one publisher for every process, and which sockets each user holds (presence), so access taken away reaches them."""
