"""Figures supervisors steer by: rollups of calls and agent states, abandonment over 30 days, and their definitions."""
