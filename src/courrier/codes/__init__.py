"""Personal codes: the printed format, keys, issuing, look-up, re-issue and signed tokens.

``format`` (alphabet + check character) needs nothing else; ``keys`` reads the key file; ``issue``,
``store`` and ``queries`` work on the database; ``token`` builds and checks the offline-verifiable QR
payload.
"""
