"""Vaccination programmes, their products, dose schedules and eligibility phases."""
