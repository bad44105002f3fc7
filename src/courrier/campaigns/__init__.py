"""Campaigns: the campaign file, cohorts on the register, wave plans, and the event log.

``definition`` reads a campaign file; ``cohort`` turns its filters into SQL on ``persons``; ``store``
records and reads campaigns; ``plan`` splits the cohort into waves of pieces; ``events`` appends to the
event log every state change writes.
"""
