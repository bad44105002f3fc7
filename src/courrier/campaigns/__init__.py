"""Campaigns: the campaign file, cohorts on the register and wave plans.

``definition`` reads a campaign file; ``cohort`` turns its filters into SQL on ``persons``; ``store``
records and reads campaigns; ``plan`` splits the cohort into waves of pieces (withdrawing pieces through
``courrier.ledger``, which keeps the event log).
"""
