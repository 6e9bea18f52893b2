"""Supervisors listen to, whisper to (coach) and barge into agents' calls."""
