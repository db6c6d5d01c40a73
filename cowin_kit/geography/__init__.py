"""Administrative divisions (levels named by the country profile) and their names."""
