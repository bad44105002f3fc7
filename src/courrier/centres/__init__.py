"""Vaccination centres (imported from a documented file) and the time slots a campaign opens there."""
