"""``python -m carrier_sim --port 5055 --account-sid AC... --auth-token ... [knobs]``

Every SimConfig field is a flag (``--time-scale 0.1``, ``--ring-seconds 4,25``,
``--duplicate-probability 0.05``); ``--outcome +15550100=busy`` and
``--keypress +15550100=9``, ``--incoming-number +12025550101=Washington`` and
``--answer-rate +12025550101=0.05`` and ``--voice-url '*=http://127.0.0.1:5000/twilio/inbound'``
may repeat.
"""
from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys

from carrier_sim.config import SimConfig
from carrier_sim.server import CarrierSimulator

SPECIAL = {"outcomes", "keypresses", "agent_phones", "account_sid", "auth_token",
           "incoming_numbers", "answer_rates", "voice_urls"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m carrier_sim",
                                     description="Twilio-compatible carrier simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--account-sid", default=os.environ.get("TWILIO_ACCOUNT_SID"))
    parser.add_argument("--auth-token", default=os.environ.get("TWILIO_AUTH_TOKEN"))
    parser.add_argument("--outcome", action="append", default=[], metavar="TO=OUTCOME",
                        help="force the outcome of calls to one number")
    parser.add_argument("--keypress", action="append", default=[], metavar="TO=DIGITS",
                        help="digits that number presses at every <Gather>")
    parser.add_argument("--agent-phone", action="append", default=[], metavar="NUMBER=DIGITS",
                        help="an agent's phone, and the key it presses to accept")
    parser.add_argument("--incoming-number", action="append", default=[], metavar="NUMBER=NAME",
                        help="a phone number the account owns (repeat; default: demo numbers)")
    parser.add_argument("--answer-rate", action="append", default=[], metavar="FROM=RATE",
                        help="person-answer rate (0..1) of calls from one caller ID")
    parser.add_argument("--voice-url", action="append", default=[], metavar="NUMBER=URL",
                        help="where a call to that number (* for every number) asks for TwiML")
    parser.add_argument("--log-level", default="INFO")
    defaults = SimConfig()
    for f in dataclasses.fields(SimConfig):
        if f.name in SPECIAL:
            continue
        default = getattr(defaults, f.name)
        shown = ",".join(str(v) for v in default) if isinstance(default, tuple) else default
        parser.add_argument("--" + f.name.replace("_", "-"), dest=f.name, default=None,
                            metavar="VALUE", help=f"default {shown}")
    return parser


def _pairs(items: list[str], flag: str) -> dict[str, str]:
    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"{flag} expects NUMBER=VALUE, got {item!r}")
        pairs[key.strip()] = value.strip()
    return pairs


def config_from_args(args: argparse.Namespace) -> SimConfig:
    changes = {f.name: getattr(args, f.name) for f in dataclasses.fields(SimConfig)
               if f.name not in SPECIAL and getattr(args, f.name) is not None}
    if args.account_sid:
        changes["account_sid"] = args.account_sid
    if args.auth_token:
        changes["auth_token"] = args.auth_token
    changes["outcomes"] = _pairs(args.outcome, "--outcome")
    changes["keypresses"] = _pairs(args.keypress, "--keypress")
    changes["agent_phones"] = _pairs(args.agent_phone, "--agent-phone")
    if args.incoming_number:
        changes["incoming_numbers"] = _pairs(args.incoming_number, "--incoming-number")
    changes["answer_rates"] = _pairs(args.answer_rate, "--answer-rate")
    changes["voice_urls"] = _pairs(args.voice_url, "--voice-url")
    return SimConfig().updated(changes)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = config_from_args(args)
    except (KeyError, ValueError) as exc:
        print(f"carrier_sim: {exc}", file=sys.stderr)
        return 2
    simulator = CarrierSimulator(config, host=args.host, port=args.port)
    try:
        simulator.start(background=False)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
