"""Vaccination centres (facilities); sessions and slots come with the booking issue."""
