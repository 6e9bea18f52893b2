"""Tasks on the `telephony` queue."""
