"""Call queues as Twilio runs them: `<Enqueue>`, its wait URL, `<Leave>`, and the Queue and
Member REST resources.

A call playing `<Enqueue>name</Enqueue>` waits in the named queue (made on demand, 1000 callers
at most). Meanwhile the wait URL is asked what the caller hears, with QueuePosition, QueueSid,
QueueTime, AvgQueueTime, CurrentQueueSize and MaxQueueSize besides the call's parameters; its
document may `<Say>`, `<Play>`, `<Pause>`, `<Gather>`, `<Redirect>`, `<Leave/>` or `<Hangup/>`,
and when it runs out the wait URL is asked again. No waitUrl attribute: Twilio's hold music;
an empty one: silence.

The call leaves the queue by `<Leave/>` (QueueResult `leave`: the Enqueue's action URL is
asked what comes next, or the verbs after `<Enqueue>` play), when its wait URL fails or answers
what is not TwiML (`error`, the same way on), by hanging up (`hangup`), or by a REST redirect
of the call or of its queue member (`redirected`: the action URL is told, and the call follows
the redirect). A person waits as long as their patience lasts
(carrier_sim.calls.Caller) and then hangs up, as callers on hold do.

Every function runs with the engine lock held.
"""
from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import urljoin

from flask import Response, request

from carrier_sim import params
from carrier_sim.calls import API_VERSION, SimCall, new_sid, rfc2822
from carrier_sim.twiml_player import heard, number, speech_seconds
from carrier_sim.webhook_http import is_url

if TYPE_CHECKING:
    from carrier_sim.engine import CallEngine

MAX_QUEUE_SIZE = 1000  # Twilio's default
MIN_WAIT_LOOP_SECONDS = 1.0  # an empty wait document is not asked for again at once
WAIT_VERBS = {"Say", "Play", "Pause", "Gather", "Redirect", "Leave", "Hangup"}


@dataclass
class Member:
    call: SimCall
    action: str | None
    wait_url: str | None  # None: Twilio's hold music; "": silence
    on_leave: Callable[[dict[str, str]], None]  # the call goes on after <Leave/>
    generation: int
    entered_at: float = field(default_factory=time.time)


@dataclass
class Queue:
    sid: str
    name: str
    account_sid: str
    max_size: int = MAX_QUEUE_SIZE
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    members: list[Member] = field(default_factory=list)

    def uri(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Queues/{self.sid}.json"

    def waited(self, member: Member, time_scale: float, now: float | None = None) -> int:
        return round(((now or time.time()) - member.entered_at) / time_scale)

    def average_wait(self, time_scale: float) -> int:
        if not self.members:
            return 0
        now = time.time()
        return round(sum(self.waited(m, time_scale, now) for m in self.members) / len(self.members))

    def wait_params(self, member: Member, time_scale: float) -> dict[str, str]:
        return {"QueueSid": self.sid, "QueuePosition": str(self.members.index(member) + 1),
                "QueueTime": str(self.waited(member, time_scale)),
                "AvgQueueTime": str(self.average_wait(time_scale)),
                "CurrentQueueSize": str(len(self.members)), "MaxQueueSize": str(self.max_size)}

    def to_json(self, time_scale: float) -> dict[str, Any]:
        uri = self.uri()
        return {"sid": self.sid, "account_sid": self.account_sid, "friendly_name": self.name,
                "current_size": len(self.members), "max_size": self.max_size,
                "average_wait_time": self.average_wait(time_scale),
                "date_created": rfc2822(self.created_at), "date_updated": rfc2822(self.updated_at),
                "uri": uri, "subresource_uris": {"members": uri[: -len(".json")] + "/Members.json"}}

    def member_json(self, member: Member, time_scale: float) -> dict[str, Any]:
        return {"call_sid": member.call.sid, "queue_sid": self.sid,
                "date_enqueued": rfc2822(member.entered_at),
                "position": self.members.index(member) + 1,
                "wait_time": self.waited(member, time_scale),
                "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Queues/{self.sid}/Members/"
                       f"{member.call.sid}.json"}


class Queues:
    def __init__(self, engine: "CallEngine"):
        self.engine = engine
        self.by_name: dict[str, Queue] = {}
        self.by_sid: dict[str, Queue] = {}
        self.where: dict[str, tuple[Queue, Member]] = {}  # CallSid -> its queue and place

    def clear(self) -> None:
        self.by_name.clear()
        self.by_sid.clear()
        self.where.clear()

    def named(self, name: str, account_sid: str) -> Queue:
        queue = self.by_name.get(name)
        if queue is None:
            queue = Queue(sid=new_sid("QU"), name=name, account_sid=account_sid)
            self.by_name[name] = self.by_sid[queue.sid] = queue
        return queue

    # -- entering and leaving --------------------------------------------------------------
    def enqueue(self, call: SimCall, name: str, *, action: str | None, wait_url: str | None,
                on_leave: Callable[[dict[str, str]], None]) -> None:
        queue = self.named(name, call.account_sid)
        if len(queue.members) >= queue.max_size:
            on_leave({"QueueResult": "queue-full"})
            return
        member = Member(call=call, action=action, wait_url=wait_url, on_leave=on_leave,
                        generation=call.generation)
        queue.members.append(member)
        queue.updated_at = member.entered_at
        self.where[call.sid] = (queue, member)
        call.queue_history.append({"queue": name, "queue_sid": queue.sid,
                                   "entered_at": member.entered_at, "left_at": None,
                                   "result": None, "seconds": None})
        call.interrupt = lambda reason: self.leave(call, reason)
        self.engine.stats.incr("queue_entries")
        patience = self.engine.caller_of(call).patience
        self.engine.later(call, patience, self._gives_up, call, member,
                          generation=member.generation)
        if wait_url:  # None: Twilio's hold music plays, asking nothing of our app; "": silence
            self.fetch_wait(member, wait_url)

    def _gives_up(self, call: SimCall, member: Member) -> None:
        if self.where.get(call.sid, (None, None))[1] is member:
            self.engine.stats.incr("queue_callers_gave_up")
            self.engine.finish(call, "completed")  # the caller hangs up: QueueResult=hangup

    def leave(self, call: SimCall, result: str) -> None:
        """`call` leaves its queue: `leave` and `error` go on with the call (the action's
        TwiML, else the verbs after <Enqueue>); `hangup` and `redirected` only tell the
        action URL."""
        found = self.where.pop(call.sid, None)
        if found is None:
            return
        queue, member = found
        now = time.time()
        waited = queue.waited(member, self.engine.config.time_scale, now)
        queue.members.remove(member)
        queue.updated_at = now
        call.interrupt = None
        call.generation += 1  # the wait music and the caller's patience stop here
        call.queue_history[-1].update(left_at=now, result=result, seconds=waited)
        self.engine.stats.incr(f"queue_results_{result}")
        form = {"QueueResult": result, "QueueSid": queue.sid, "QueueTime": str(waited)}
        if result in ("leave", "error"):
            member.on_leave(form)
        elif member.action:
            self.engine.notify(call, member.action, form, "queue-action")

    def member_for(self, queue: Queue, key: str) -> Member | None:
        """A member by CallSid, or `Front` for the one waiting longest (as Twilio's API)."""
        if key == "Front":
            return queue.members[0] if queue.members else None
        found = self.where.get(key)
        return found[1] if found and found[0] is queue else None

    # -- the wait URL -----------------------------------------------------------------------
    def fetch_wait(self, member: Member, url: str) -> None:
        """Ask the wait URL (or a <Redirect> or <Gather> action of it) what the caller hears,
        off the scheduler thread."""
        call = member.call
        found = self.where.get(call.sid)
        if found is None or found[1] is not member:
            return
        self.engine.stats.incr("queue_wait_fetches")
        form = params.voice(call, **found[0].wait_params(member, self.engine.config.time_scale))
        self.engine.submit_fetch(self._wait_and_play, member, url, form)

    def fetch_wait_action(self, member: Member, url: str, **extra: str) -> None:
        self.engine.stats.incr("queue_wait_fetches")
        form = params.voice(member.call, **extra)
        self.engine.submit_fetch(self._wait_and_play, member, url, form)

    def _wait_and_play(self, member: Member, url: str, form: dict[str, str]) -> None:
        error = None
        try:
            response = self.engine.sender.post_form(url, form)
            body = response.text
            if response.status_code >= 400:
                error = f"HTTP {response.status_code} from wait URL {url}"
        except Exception as exc:  # noqa: BLE001 - an unreachable wait URL is an error too
            body, error = "", f"{type(exc).__name__} fetching wait URL {url}: {exc}"
        with self.engine.lock:
            call = member.call
            if self.where.get(call.sid, (None, None))[1] is not member or call.terminal:
                return
            root = None
            if error is None:
                try:
                    root = ET.fromstring(body.encode())
                except ET.ParseError as exc:
                    error = f"invalid wait TwiML from {url}: {exc}"
            if root is not None and root.tag != "Response":
                error = f"wait TwiML from {url} has no <Response> root"
            if error is not None:  # out of the queue, QueueResult=error, and on with the call
                call.errors.append(error)
                self.leave(call, "error")
                return
            WaitPlayback(self, member, list(root), url).step()


class WaitPlayback:
    """One wait document, verb by verb, for as long as its caller stays in the queue."""

    def __init__(self, queues: Queues, member: Member, verbs: list[ET.Element], url: str):
        self.queues, self.engine = queues, queues.engine
        self.member, self.call = member, member.call
        self.verbs, self.url = verbs, url
        self.index, self.seconds = 0, 0.0

    def _in_queue(self) -> bool:
        return self.queues.where.get(self.call.sid, (None, None))[1] is self.member

    def _after(self, seconds: float, fn: Callable[..., None] | None = None, *args: Any) -> None:
        self.seconds += seconds

        def run() -> None:
            if self._in_queue():
                (fn or self.step)(*args)

        self.engine.later(self.call, seconds, run, generation=self.member.generation)

    def step(self) -> None:
        if self.index >= len(self.verbs):
            # Out of verbs (a redirected or a Gather action's document too): Twilio asks the
            # waitUrl again, at once; here never in a tighter loop than a second.
            pause = max(0.0, MIN_WAIT_LOOP_SECONDS - self.seconds)
            self._after(pause, self.queues.fetch_wait, self.member, self.member.wait_url)
            return
        verb = self.verbs[self.index]
        self.index += 1
        if verb.tag not in WAIT_VERBS:
            self.call.errors.append(f"<{verb.tag}> is not allowed in wait TwiML; skipped")
            self.step()
            return
        getattr(self, f"_verb_{verb.tag.lower()}")(verb)

    def _verb_say(self, verb: ET.Element) -> None:
        heard(self.call, verb)
        self._after(speech_seconds(self.engine, verb))

    _verb_play = _verb_say

    def _verb_pause(self, verb: ET.Element) -> None:
        self._after(number(verb.get("length"), 1.0))

    def _verb_redirect(self, verb: ET.Element) -> None:
        target = urljoin(self.url, (verb.text or "").strip() or self.url)
        self._after(0.0, self.queues.fetch_wait, self.member, target)

    def _verb_leave(self, verb: ET.Element) -> None:
        self.queues.leave(self.call, "leave")

    def _verb_hangup(self, verb: ET.Element) -> None:
        self.engine.finish(self.call, "completed")  # QueueResult=hangup

    def _verb_gather(self, verb: ET.Element) -> None:
        for child in verb:
            heard(self.call, child)
        prompt = sum(speech_seconds(self.engine, c) for c in verb if c.tag in ("Say", "Play"))
        wait = number(verb.get("timeout"), 5.0)
        digits = self.engine.keypress_for(self.call)
        if not digits:
            self._after(prompt + wait)
            return
        action = urljoin(self.url, verb.get("action") or self.url)
        press_at = min(self.engine.draw(self.engine.config.gather_delay_seconds), prompt + wait)
        self._after(press_at, self._press, action, digits, verb)

    def _press(self, action: str, digits: str, verb: ET.Element) -> None:
        num_digits = int(number(verb.get("numDigits"), len(digits)))
        digits = digits[:num_digits] if num_digits > 0 else digits
        self.call.digits_pressed.append({"digits": digits, "at": time.time(), "verb": "Gather"})
        self.engine.stats.incr("gather_posts")
        # The action's TwiML is played as wait TwiML: the caller is still in the queue.
        self.queues.fetch_wait_action(self.member, action, Digits=digits)



def register(app, engine: "CallEngine", authenticate, api_error) -> None:
    """The Queue and Member REST resources (list, fetch, create, dequeue a member by URL)."""
    base = f"/{API_VERSION}/Accounts/<account_sid>/Queues"
    queues = engine.queues

    def answer(payload, status: int = 200) -> Response:
        return Response(json.dumps(payload), status=status, mimetype="application/json")

    def page(key: str, items: list) -> Response:
        return answer({key: items, "meta": {"page": 0, "page_size": 50, "key": key,
                                            "next_page_url": None}})

    def find(account_sid: str, sid: str) -> Queue:
        authenticate(account_sid)
        queue = queues.by_sid.get(sid)
        if queue is None:
            raise api_error(404, 20404, f"The requested resource {request.path} was not found")
        return queue

    @app.route(f"{base}.json", methods=["GET", "POST"])
    def queue_list(account_sid: str):
        authenticate(account_sid)
        scale = engine.config.time_scale
        with engine.lock:
            if request.method == "POST":
                name = (request.form.get("FriendlyName") or "").strip()
                if not name or len(name) > 64:
                    raise api_error(400, 20001, "FriendlyName is required (64 characters at most)")
                if name in queues.by_name:
                    raise api_error(400, 22003, f"A queue named {name} already exists")
                queue = queues.named(name, account_sid)
                queue.max_size = _max_size(request.form, queue.max_size, api_error)
                return answer(queue.to_json(scale), 201)
            return page("queues", [q.to_json(scale) for q in queues.by_sid.values()])

    @app.route(f"{base}/<sid>.json", methods=["GET", "POST"])
    def queue_one(account_sid: str, sid: str):
        with engine.lock:
            queue = find(account_sid, sid)
            if request.method == "POST":
                queue.max_size = _max_size(request.form, queue.max_size, api_error)
            return answer(queue.to_json(engine.config.time_scale))

    @app.get(f"{base}/<sid>/Members.json")
    def member_list(account_sid: str, sid: str):
        with engine.lock:
            queue = find(account_sid, sid)
            scale = engine.config.time_scale
            return page("queue_members", [queue.member_json(m, scale) for m in queue.members])

    @app.route(f"{base}/<sid>/Members/<key>.json", methods=["GET", "POST"])
    def member_one(account_sid: str, sid: str, key: str):
        """GET a member (a CallSid, or Front); POST ``Url`` dequeues it to that TwiML."""
        with engine.lock:
            queue = find(account_sid, sid)
            member = queues.member_for(queue, key)
            if member is None:
                raise api_error(404, 20404, f"The requested resource {request.path} was not found")
            shown = queue.member_json(member, engine.config.time_scale)
        if request.method == "POST":
            url = request.form.get("Url", "")
            if not is_url(url):
                raise api_error(400, 21205, "Url is not a valid URL")
            engine.redirect(member.call, url, None)  # QueueResult=redirected
        return answer(shown)


def _max_size(form, current: int, api_error) -> int:
    if "MaxSize" not in form:
        return current
    try:
        size = int(form["MaxSize"])
    except ValueError:
        raise api_error(400, 20001, "MaxSize must be an integer") from None
    if not 1 <= size <= 5000:
        raise api_error(400, 20001, "MaxSize must be from 1 to 5000")
    return size
