"""A campaign's contact lists: each upload (a contacts import) is a list that can be switched
off, renamed and recycled; contacts added by hand or through the API belong to no list.

Switched off, a list's contacts are not dialled: the refill does not queue them and takes out
those waiting in the queue (app.dialer.refill), and one already claimed is refused at the
moment of dialling (app.dialer.attempts). Manual dial by an agent is not affected (they chose the number).

A recycle ("reset" in VICIdial) gives the contacts whose last call ended one of the chosen ways
another pass: due now, with the campaign's attempt limit counted afresh. As in VICIdial the
count of calls ever made stays (it numbers each call and the history keeps them all); the pass
starts at it (`attempts_before_pass`). It never touches a contact on a do-not-call list, one
who revoked consent, one closed by a disposition, invalid, being dialled, or with a callback
still to make.
"""
from __future__ import annotations

from sqlalchemy import func, select, text

from app.audit import services as audit
from app.campaigns import access
from app.campaigns.models import DispositionCode
from app.contacts.models import Contact
from app.errors import ApiError
from app.extensions import db
from app.imports.models import ImportJob

BY_HAND = "Added by hand"

STATUS_WORDS = {
    "new": "Not called yet",
    "retry": "To call again",
    "callback": "Callback to make",
    "dialing": "Being dialled",
    "done": "Finished",
    "dnc": "Do not call",
    "invalid": "Invalid number",
}

# How the last call ended, for the ones a recycle may reset (a dial's own outcome, or a talk
# that settled nothing). A disposition that closed the contact (sale, final, DNC, callback) is
# never among them.
DIAL_OUTCOMES = {
    "no-answer": "No answer",
    "busy": "Busy",
    "machine": "Answering machine",
    "abandoned": "Answered, no agent free (abandoned)",
    "failed": "Could not be placed",
    "canceled": "Cancelled before answer",
    "not_placed": "Held back by a calling rule",
    "no-disposition": "Talked, no outcome recorded",
}
OTHER_OUTCOMES = {"human": "Answered by a person"}

_ON_DNC = """EXISTS (SELECT 1 FROM dnc_entries d WHERE d.phone_e164 = c.phone_e164
                     AND (d.campaign_id IS NULL OR d.campaign_id = c.campaign_id))"""
_OPTED_OUT = """EXISTS (SELECT 1 FROM consents k WHERE k.phone_e164 = c.phone_e164
                        AND k.revoked_at IS NOT NULL)"""
_CALLBACK_DUE = """EXISTS (SELECT 1 FROM callbacks b WHERE b.contact_id = c.id
                           AND b.status IN ('scheduled', 'queued'))"""
# Who a recycle may reset: of the list, finished or waiting for a retry, called in this pass
# (a contact just recycled is not counted again), last call ended one of the chosen ways, and
# nothing that says they must not (or need not) be called again.
_RECYCLABLE = f"""c.campaign_id = :cid AND c.import_job_id = :lid
  AND c.status IN ('retry', 'done') AND c.last_outcome = ANY(:outcomes)
  AND c.attempts > c.attempts_before_pass
  AND NOT {_ON_DNC} AND NOT {_OPTED_OUT} AND NOT {_CALLBACK_DUE}"""


def recyclable_outcomes(campaign_id: int) -> dict[str, str]:
    """Outcome -> words: the dial outcomes, and the campaign's codes that settle nothing."""
    codes = db.session.execute(select(DispositionCode.code, DispositionCode.label).where(
        DispositionCode.campaign_id == campaign_id, DispositionCode.is_final.is_(False),
        DispositionCode.is_dnc.is_(False), DispositionCode.is_callback.is_(False),
        DispositionCode.is_sale.is_(False))).all()
    return {**DIAL_OUTCOMES, **{code: label for code, label in codes}}


def outcome_words(campaign_id: int) -> dict[str, str]:
    labels = dict(db.session.execute(select(DispositionCode.code, DispositionCode.label).where(
        DispositionCode.campaign_id == campaign_id)).all())
    return {**OTHER_OUTCOMES, **labels, **DIAL_OUTCOMES}


def _words(words: dict[str, str], outcome: str | None) -> str:
    if outcome is None:
        return "Not called yet"
    return words.get(outcome) or outcome.replace("-", " ").replace("_", " ").capitalize()


def _get_list(user, campaign_id: int, list_id: int) -> ImportJob:
    campaign = access.get_campaign(user, campaign_id, manage=True)
    job = db.session.get(ImportJob, list_id)
    if job is None or job.kind != "contacts" or job.campaign_id != campaign.id:
        raise access.not_found("list")
    return job


def list_name(job: ImportJob | None) -> str:
    return BY_HAND if job is None else (job.name or job.filename)


def lists(user, campaign_id: int) -> dict:
    """Every list of the campaign (newest first) and the contacts added by hand, each with its
    contacts counted by status and by last outcome, and what a recycle would reset."""
    campaign = access.get_campaign(user, campaign_id, manage=True)
    jobs = db.session.scalars(select(ImportJob).where(
        ImportJob.kind == "contacts", ImportJob.campaign_id == campaign.id, ImportJob.status != "failed")
        .order_by(ImportJob.created_at.desc(), ImportJob.id.desc())).all()
    by_status: dict = {}
    for lid, status, n in db.session.execute(
            select(Contact.import_job_id, Contact.status, func.count())
            .where(Contact.campaign_id == campaign.id).group_by(Contact.import_job_id, Contact.status)):
        by_status.setdefault(lid, {})[status] = n
    by_outcome: dict = {}
    for lid, outcome, n in db.session.execute(
            select(Contact.import_job_id, Contact.last_outcome, func.count())
            .where(Contact.campaign_id == campaign.id).group_by(Contact.import_job_id, Contact.last_outcome)):
        by_outcome.setdefault(lid, {})[outcome] = n
    choosable = recyclable_outcomes(campaign.id)
    recyclable: dict = {}
    for lid, outcome, n in db.session.execute(text(
            f"SELECT c.import_job_id, c.last_outcome, count(*) FROM contacts c "
            f"WHERE {_RECYCLABLE.replace('c.import_job_id = :lid', 'c.import_job_id IS NOT NULL')} "
            "GROUP BY 1, 2"), {"cid": campaign.id, "outcomes": list(choosable)}):
        recyclable.setdefault(lid, {})[outcome] = n
    words = outcome_words(campaign.id)

    def entry(job: ImportJob | None) -> dict:
        lid = job.id if job else None
        statuses = by_status.get(lid, {})
        return {
            "id": lid,
            "name": list_name(job),
            "filename": job.filename if job else None,
            "active": job.active if job else True,
            "import_status": job.status if job else None,
            "uploaded_at": job.created_at if job else None,
            "contacts": sum(statuses.values()),
            "by_status": [{"status": s, "words": STATUS_WORDS.get(s, s), "count": n}
                          for s, n in sorted(statuses.items(), key=lambda kv: list(STATUS_WORDS).index(kv[0])
                                             if kv[0] in STATUS_WORDS else 99)],
            "by_last_outcome": [{"outcome": o, "words": _words(words, o), "count": n}
                                for o, n in sorted(by_outcome.get(lid, {}).items(), key=lambda kv: -kv[1])],
            "recyclable": [{"outcome": o, "words": _words(words, o), "count": n}
                           for o, n in sorted(recyclable.get(lid, {}).items(), key=lambda kv: -kv[1])]
            if job else [],
        }

    items = [entry(job) for job in jobs]
    if by_status.get(None):
        items.append(entry(None))
    db.session.rollback()
    return {"items": items, "recyclable_outcomes": [{"outcome": o, "words": w} for o, w in choosable.items()]}


def update_list(user, campaign_id: int, list_id: int, data: dict) -> dict:
    """Switch a list on or off, or rename it; audited. Switched off, its contacts waiting in the
    dial queue leave it at the next refill (within seconds) and are refused if claimed before."""
    job = _get_list(user, campaign_id, list_id)
    changes = {}
    if "name" in data:
        name = (data["name"] or "").strip()
        if not name:
            raise ApiError(422, "The list needs a name", fields={"name": ["Give the list a name."]})
        if name != list_name(job):
            changes["name"] = name
            job.name = name
    if "active" in data and data["active"] != job.active:
        changes["active"] = data["active"]
        job.active = data["active"]
    if changes:
        audit.record("contact_list.update", target_type="import_job", target_id=job.id,
                     campaign_id=job.campaign_id, list_name=list_name(job), **changes)
    db.session.commit()
    return {"id": job.id, "name": list_name(job), "active": job.active}


def recycle(user, campaign_id: int, list_id: int, outcomes: list[str]) -> dict:
    """Give the list's contacts whose last call ended one of `outcomes` another pass; audited
    (who, which list, which outcomes, how many)."""
    job = _get_list(user, campaign_id, list_id)
    choosable = recyclable_outcomes(job.campaign_id)
    unknown = [o for o in outcomes if o not in choosable]
    if unknown or not outcomes:
        raise ApiError(422, "Choose the outcomes to reset", fields={"outcomes": [
            "Choose at least one outcome." if not outcomes else
            f"These cannot be reset: {', '.join(unknown)}. A sale, a final outcome, do-not-call "
            "or a callback is never reset."]})
    rows = db.session.execute(text(
        f"""UPDATE contacts c SET status = 'retry', next_due_at = NULL, attempts_before_pass = c.attempts,
                                  updated_at = now()
            WHERE {_RECYCLABLE} RETURNING c.last_outcome"""),
        {"cid": job.campaign_id, "lid": job.id, "outcomes": sorted(set(outcomes))}).all()
    counts: dict[str, int] = {}
    for (outcome,) in rows:
        counts[outcome] = counts.get(outcome, 0) + 1
    audit.record("contact_list.recycle", target_type="import_job", target_id=job.id,
                 campaign_id=job.campaign_id, list_name=list_name(job), outcomes=sorted(set(outcomes)),
                 reset=len(rows), reset_by_outcome=counts)
    db.session.commit()
    return {"id": job.id, "name": list_name(job), "reset": len(rows),
            "by_outcome": [{"outcome": o, "words": choosable[o], "count": counts.get(o, 0)}
                           for o in sorted(set(outcomes))]}
