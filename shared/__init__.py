"""What gate and server must agree on: credentials, the decision, reason codes, wire schemas.

This package imports only the standard library, cryptography, cbor2, base45 and pydantic.
"""
