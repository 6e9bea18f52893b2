"""Test data for campaigns: a lawful payload and a factory that commits through the services."""
from __future__ import annotations

import itertools

_seq = itertools.count(1)


def campaign_payload(**overrides) -> dict:
    n = next(_seq)
    payload = {
        "name": f"Spring renewals {n}",
        "dial_mode": "progressive",
        "caller_id": "+12025550123",
        "ring_timeout_seconds": 20,
        "window_start": "09:00:00",
        "window_end": "20:00:00",
        "max_abandon_rate": 0.02,
        "seller_name": "Acme Energy",
        "seller_phone": "+12025550199",
        "safe_harbour_message": "This is Acme Energy. Call us back at 202-555-0199. Press 9 to opt out.",
    }
    payload.update(overrides)
    return payload


class CampaignFactory:
    def __init__(self, app):
        self.app = app

    def create(self, agents=(), supervisors=(), **overrides) -> int:
        """A committed campaign (inside the test's transaction); returns its id."""
        from datetime import time

        from app.auth.models import User
        from app.campaigns import services
        from app.extensions import db

        data = campaign_payload(**overrides)
        for key in ("window_start", "window_end"):
            if isinstance(data[key], str):
                data[key] = time.fromisoformat(data[key])
        data["agent_ids"] = [a.id for a in agents]
        data["supervisor_ids"] = [s.id for s in supervisors]
        with self.app.app_context():
            admin = db.session.scalar(db.select(User).where(User.role == "admin").limit(1))
            if admin is None:
                from app.users.services import create_user

                admin = create_user(f"factory-admin-{next(_seq)}", "Factory-Admin-Pass-42", "admin")
            campaign = services.create_campaign(admin, data)
            return campaign.id
