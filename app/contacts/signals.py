"""What contacts announce to the features that act on them.

`consent_revoked` is sent by `app.contacts.consents.revoke` inside the transaction that puts the
number on the do-not-call list and revokes its consents (receivers must not commit). Keyword
arguments: phone (E.164), seller (or None), via (opt_out_key | dnc_disposition | api), at,
consents_revoked (how many consents were marked revoked), by_user_id (or None).
"""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

consent_revoked = _signals.signal("consent-revoked")
