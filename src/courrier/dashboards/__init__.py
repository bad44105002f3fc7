"""What the dashboards count: the ministry's aggregates (counts only, small cells suppressed).

The operator's dashboard has no queries of its own: it shows what ``courrier status``, ``reconcile``,
``reprint`` and ``requests list`` compute (``production/``, ``booking/requests.py``).
"""
