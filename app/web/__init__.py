"""The browser apps: sign-in, the agent console, the supervisor wallboard and the admin pages.

Pages are server-rendered shells; their small ES modules talk to the JSON API (same roles,
same CSRF rules) and to the /live Socket.IO namespace.
"""
