"""Staff users, their roles and areas, and the audit log of what they do."""
