"""Messages to people (SMS now; e-mail later), written in each person's language."""
