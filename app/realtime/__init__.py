"""Live events: the /live Socket.IO namespace, its rooms and who may join them."""
