"""The ledger: the only writer of pieces' states, codes' uses and statuses, and the event log.

Every stage (campaigns, codes, production, and later the web services) changes a piece or a code through
this package and nothing else, so the rules are written once and each change appends its event in the
same transaction. It imports only ``db`` and ``errors``: it sits below every stage.

``events`` appends to the event log; ``pieces`` is the piece lifecycle (the allowed transitions);
``codes`` counts uses of a code and revokes it.
"""
