"""EU Digital COVID Certificates (DCC): a test PKI, issuing, verifying, revoking.

A certificate is a CBOR Web Token signed as a COSE_Sign1 message, compressed, base45-encoded and
prefixed, carried in a QR code that any EU verifier app reads::

    HC1: + base45( zlib( COSE_Sign1( protected {1: alg, 4: kid}, unprotected {},
                                     CWT {1: iss, 6: iat, 4: exp, -260: {1: payload}}, signature ) ) )

- ``pki``: the country signing CA (CSCA) and the document signer (DSC) with the DCC extended key
  usages, the trust list verifiers load.
- ``payload``: the JSON payload from a vaccination record, checked against the official schema and
  value sets (``courrier/data/dcc/``, Apache-2.0, see its ``NOTICE``); ``names``: ICAO 9303 transliteration;
  ``uvci``: the certificate identifier with its checksum.
- ``issue``: payload to ``HC1:`` string (and QR matrix); ``verify``: every step of the way back,
  the first that fails named; ``revocation``: the list of revoked UVCI hashes.
- ``qr``: the QR code (alphanumeric mode, level Q) and reading one from a PNG or a PDF page.

Nothing here touches the database: the keys and lists are files in the DCC folder
(``COURRIER_DCC_DIR``).
"""
