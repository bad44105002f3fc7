"""Personal codes: the printed format, keys, issuing, look-up, re-issue and signed tokens.

``format`` (alphabet + check character) needs nothing else; ``keys`` reads the key file; ``sealing``
keeps codes as an HMAC (look-up) and a ciphertext (printing); ``issue`` and ``store`` work on the database
(uses and revocations are written by ``courrier.ledger``); ``token`` builds and checks the
offline-verifiable QR payload.
"""
