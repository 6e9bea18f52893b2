"""Webhooks out: signed JSON posts to the HTTPS endpoints admins register, for CRMs.

Not to be confused with app/webhooks/, which receives the carrier's webhooks. Events are
written in the transaction that causes them and queued for the `default` workers only after it
commits, so neither a web request nor the call-state worker ever waits on a CRM.
"""
