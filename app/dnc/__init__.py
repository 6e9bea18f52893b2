"""Do-not-call lists: the internal list and per-campaign lists, their imports, and the check every dial makes."""
