"""Page a SQLAlchemy select into the list envelope every list endpoint answers with."""
from __future__ import annotations

import math

from sqlalchemy import Select, func, select

from app.extensions import db


def paginate(query: Select, page: int, per_page: int) -> dict:
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return {
        "items": items,
        "meta": {
            "page": page,
            "per_page": per_page,
            "total": total,
            "pages": math.ceil(total / per_page) if total else 0,
        },
    }
