"""Celery task modules, one per queue: dial, telephony, kpi, default.

Tasks are thin: they take ids, call one service function, and stay idempotent.
"""
