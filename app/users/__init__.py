"""User administration for admins: creating, changing and deactivating users, and campaign assignments."""
