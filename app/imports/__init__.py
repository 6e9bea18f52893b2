"""CSV imports of contacts and do-not-call numbers: the stored upload, the job and its progress, and every rejected line with its number and reason."""
