"""Who is calling: users, passwords, sessions, bearer tokens, role checks, CSRF and security headers."""
