"""A Twilio-compatible carrier simulator for the demo, the tests and the benchmarks.

It answers the Calls REST API, plays each call out in (scaled) time, fetches
the call's TwiML from our app and posts signed status callbacks, with
configurable outcome mixes and chaos. People call the account's numbers too
(``POST /_sim/inbound``): queues, voicemail and keypresses as Twilio runs them.
Run it with ``python -m carrier_sim``.
"""
from carrier_sim.config import OUTCOMES, SimConfig
from carrier_sim.rest import create_sim_app
from carrier_sim.server import CarrierSimulator

__all__ = ["CarrierSimulator", "OUTCOMES", "SimConfig", "create_sim_app"]
