"""Carrier fixtures for every test in this folder (defined in carrier_harness)."""
from carrier_harness import (  # noqa: F401
    app_stand_in, call_request, carrier, receiver, sim,
)
