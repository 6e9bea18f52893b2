"""The calling rules a placement must pass: calling windows in every zone a contact may be in, attempts, retries and do-not-call, as pure functions."""
