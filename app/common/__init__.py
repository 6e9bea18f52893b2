"""Shared plumbing with no feature of its own: Redis, locks, tasks sent by name, the live-event publisher, phone numbers, time, pagination."""
