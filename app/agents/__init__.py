"""Agents on the floor: their live state in Redis (ready, reserved, on-call, wrap-up, paused), reservations for answered calls, pause codes and supervisors' force-pause."""
