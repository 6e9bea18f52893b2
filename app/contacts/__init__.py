"""Contact lists: contacts, CSV imports with line-by-line rejections, and the rules for a contact's next attempt."""
