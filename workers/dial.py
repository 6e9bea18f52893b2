"""Tasks on the `dial` queue."""
