"""Conferences as Twilio runs them, and who hears whom in each.

A call joins a conference by playing `<Dial><Conference>`; it stays until it hangs up, is
redirected, is removed, or the conference ends, and then goes on with the verbs after
`<Dial>`. A conference starts when a participant with startConferenceOnEnter joins and ends
when one with endConferenceOnExit leaves, or when the last one does. Participants can be held
(they hear the hold music and nobody hears them), muted (heard by nobody), or coaching one
participant (heard only by that one).

The simulator knows what is at the far end of each leg, as a call floor does: a staff member
(an agent's or supervisor's browser, or a phone configured as an agent's), the person the
dialer called, or an outside party dialled in. It records every person who sat in a
conference with no staff member or outside party to talk to: `alone` in `/_sim/stats`; the
suite asserts it stays zero.

Every function runs with the engine lock held.
"""
from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from carrier_sim.calls import SimCall, new_sid, rfc2822
from carrier_sim.twiml_player import flag

if TYPE_CHECKING:
    from carrier_sim.engine import CallEngine

STAFF, PERSON, OUTSIDE = "staff", "person", "outside"
COMPANIONS = (STAFF, OUTSIDE)


@dataclass
class Member:
    call: SimCall
    label: str
    start_on_enter: bool
    end_on_exit: bool
    on_leave: Callable[[], None]  # the call goes on with the verbs after <Dial>
    joined_at: float = field(default_factory=time.time)
    muted: bool = False
    hold: bool = False
    hold_url: str | None = None   # what a held member hears (TwiML fetched from there)
    coaching: str | None = None   # the CallSid this member whispers to
    alone_since: float | None = None


@dataclass
class Conference:
    sid: str
    name: str
    account_sid: str
    status: str = "init"          # init | in-progress | completed
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    members: dict[str, Member] = field(default_factory=dict)
    status_callback: str | None = None
    events: frozenset[str] = frozenset()
    sequence: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        base = f"/2010-04-01/Accounts/{self.account_sid}/Conferences/{self.sid}"
        return {"sid": self.sid, "account_sid": self.account_sid, "friendly_name": self.name,
                "status": self.status, "date_created": rfc2822(self.created_at),
                "date_updated": rfc2822(self.updated_at), "region": "us1",
                "reason_conference_ended": None, "uri": f"{base}.json",
                "subresource_uris": {"participants": f"{base}/Participants.json"}}

    def participant_json(self, member: Member) -> dict[str, Any]:
        return {"account_sid": self.account_sid, "call_sid": member.call.sid,
                "conference_sid": self.sid, "label": member.label or None,
                "status": "connected", "muted": member.muted, "hold": member.hold,
                "coaching": member.coaching is not None, "call_sid_to_coach": member.coaching,
                "start_conference_on_enter": member.start_on_enter,
                "end_conference_on_exit": member.end_on_exit,
                "date_created": rfc2822(member.joined_at), "date_updated": rfc2822(time.time()),
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Conferences/{self.sid}/"
                       f"Participants/{member.call.sid}.json"}

    def hears(self, listener: Member) -> list[str]:
        """The CallSids whose voice reaches `listener` now."""
        if self.status != "in-progress" or listener.hold:
            return []
        heard = []
        for other in self.members.values():
            if other is listener or other.hold or other.muted:
                continue
            if other.coaching is not None and other.coaching != listener.call.sid:
                continue
            heard.append(other.call.sid)
        return heard

    def introspect(self) -> dict[str, Any]:
        return {"sid": self.sid, "name": self.name, "status": self.status,
                "participants": [{"call_sid": m.call.sid, "party": m.call.party, "label": m.label,
                                  "to": m.call.to, "from": m.call.from_, "muted": m.muted,
                                  "hold": m.hold, "hold_url": m.hold_url if m.hold else None,
                                  "coaching": m.coaching,
                                  "hears": self.hears(m)} for m in self.members.values()],
                "history": list(self.history)}


class Conferences:
    def __init__(self, engine: "CallEngine"):
        self.engine = engine
        self.by_name: dict[str, Conference] = {}   # the live conference of each name
        self.by_sid: dict[str, Conference] = {}
        self.where: dict[str, Conference] = {}     # CallSid -> the conference it is in
        self.alone: dict[str, dict[str, Any]] = {}  # person CallSid -> when and where, how long

    def clear(self) -> None:
        self.by_name.clear()
        self.by_sid.clear()
        self.where.clear()
        self.alone.clear()

    # -- joining and leaving ----------------------------------------------------------
    def join(self, call: SimCall, noun: ET.Element, on_leave: Callable[[], None]) -> None:
        name = (noun.text or "").strip()
        self.leave(call)
        conference = self.by_name.get(name)
        if conference is None:
            conference = Conference(sid=new_sid("CF"), name=name, account_sid=call.account_sid)
            self.by_name[name] = conference
            self.by_sid[conference.sid] = conference
        if conference.status_callback is None and noun.get("statusCallback"):
            conference.status_callback = noun.get("statusCallback")
            conference.events = frozenset((noun.get("statusCallbackEvent") or "start end").split())
        member = Member(call=call, label=noun.get("participantLabel") or "",
                        start_on_enter=flag(noun, "startConferenceOnEnter", True),
                        end_on_exit=flag(noun, "endConferenceOnExit", False),
                        muted=flag(noun, "muted", False), on_leave=on_leave,
                        coaching=(noun.get("coach") or "").strip() or None)
        conference.members[call.sid] = member
        self.where[call.sid] = conference
        call.connected_to = f"conference:{name}"
        conference.history.append({"event": "join", "call_sid": call.sid, "party": call.party,
                                   "at": time.time()})
        if conference.status == "init" and member.start_on_enter:
            conference.status = "in-progress"
            self._event(conference, "conference-start", None)
        self._event(conference, "participant-join", member)
        self._recount(conference)
        if conference.status == "init" and noun.get("waitUrl"):
            # Waiting for someone who starts it: Twilio plays the wait URL meanwhile.
            self.engine.fetch_wait(call, conference, noun.get("waitUrl"))

    def leave(self, call: SimCall, *, go_on: bool = False) -> None:
        """`call` leaves its conference (hung up, redirected, removed): with `go_on` it goes on
        with the verbs after its <Dial>."""
        conference = self.where.pop(call.sid, None)
        if conference is None:
            return
        member = conference.members.pop(call.sid)
        self._settle_alone(member, time.time())
        conference.history.append({"event": "leave", "call_sid": call.sid, "party": call.party,
                                   "at": time.time()})
        self._event(conference, "participant-leave", member)
        if go_on:
            member.on_leave()
        if conference.status == "in-progress" and member.end_on_exit or not conference.members:
            self.end(conference)
        else:
            self._recount(conference)

    def end(self, conference: Conference) -> None:
        if conference.status == "completed":
            return
        conference.status = "completed"
        conference.updated_at = time.time()
        if self.by_name.get(conference.name) is conference:
            del self.by_name[conference.name]
        for sid in list(conference.members):
            member = conference.members.pop(sid)
            self.where.pop(sid, None)
            self._settle_alone(member, time.time())
            self._event(conference, "participant-leave", member)
            member.on_leave()
        self._event(conference, "conference-end", None)

    # -- participant updates (the REST API) -------------------------------------------
    def update(self, conference: Conference, call_sid: str, form) -> Member | None:
        member = conference.members.get(call_sid)
        if member is None:
            return None
        changed = []
        if "EndConferenceOnExit" in form:
            member.end_on_exit = form["EndConferenceOnExit"].lower() == "true"
            changed.append("participant-modify")
        if "Hold" in form:
            member.hold = form["Hold"].lower() == "true"
            member.hold_url = form.get("HoldUrl") or member.hold_url
            changed.append("participant-hold" if member.hold else "participant-unhold")
        if "Muted" in form:
            member.muted = form["Muted"].lower() == "true"
            changed.append("participant-mute" if member.muted else "participant-unmute")
        if "Coaching" in form or "CallSidToCoach" in form:
            coaching = (form.get("Coaching") or "true").lower() == "true"
            member.coaching = form.get("CallSidToCoach") or member.coaching if coaching else None
            changed.append("participant-modify")
        for event in changed:
            self._event(conference, event, member)
        self._recount(conference)
        return member

    # -- who is alone ------------------------------------------------------------------
    def _recount(self, conference: Conference) -> None:
        now = time.time()
        for member in conference.members.values():
            if member.call.party != PERSON:
                continue
            companions = [m for m in conference.members.values()
                          if m is not member and m.call.party in COMPANIONS]
            if companions:
                self._settle_alone(member, now)
            elif member.alone_since is None:
                member.alone_since = now
                entry = self.alone.setdefault(member.call.sid, {
                    "call_sid": member.call.sid, "to": member.call.to, "conference": conference.name,
                    "since": now, "seconds": 0.0, "times": 0})
                entry["times"] += 1
                self.engine.stats.incr("persons_alone_in_conference")

    def _settle_alone(self, member: Member, now: float) -> None:
        if member.alone_since is None:
            return
        entry = self.alone.get(member.call.sid)
        if entry is not None:
            entry["seconds"] += (now - member.alone_since) / self.engine.config.time_scale
        member.alone_since = None

    # -- events -------------------------------------------------------------------------
    def _event(self, conference: Conference, event: str, member: Member | None) -> None:
        conference.updated_at = time.time()
        short = event.split("-", 1)[1] if event.startswith("participant-") else event.split("-")[1]
        wanted = conference.events
        if not conference.status_callback or (short not in wanted and event not in wanted
                                              and not (short in ("hold", "unhold") and "hold" in wanted)
                                              and not (short in ("mute", "unmute") and "mute" in wanted)):
            return
        form = {"AccountSid": conference.account_sid, "ConferenceSid": conference.sid,
                "FriendlyName": conference.name, "StatusCallbackEvent": event,
                "SequenceNumber": str(conference.sequence), "Timestamp": rfc2822(time.time())}
        conference.sequence += 1
        if member is not None:
            form.update(CallSid=member.call.sid, Muted=str(member.muted).lower(),
                        Hold=str(member.hold).lower(), Coaching=str(member.coaching is not None).lower(),
                        EndConferenceOnExit=str(member.end_on_exit).lower(),
                        StartConferenceOnEnter=str(member.start_on_enter).lower())
            if member.label:
                form["ParticipantLabel"] = member.label
        from carrier_sim.webhook_sender import Delivery

        carrier = member.call if member is not None else _ConferenceCarrier(conference)
        self.engine.stats.incr("conference_callbacks")
        self.engine.sender.enqueue(Delivery(conference.status_callback, form, carrier, "conference"))

    def snapshot(self, name: str | None = None) -> list[dict[str, Any]]:
        return [c.introspect() for c in self.by_sid.values() if name is None or c.name == name]


@dataclass
class _ConferenceCarrier:
    """What a delivery needs of its call (a sid to shard by, a log) for a conference event."""
    conference: Conference

    @property
    def sid(self) -> str:
        return self.conference.sid

    @property
    def callbacks(self) -> list:
        return self.conference.history
