"""The audit trail: one entry per sign-in attempt and per change an admin, supervisor or the system makes."""
