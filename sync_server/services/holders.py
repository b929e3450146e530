"""Holder ids: the back office names a person by its own reference (customer number, ID card);
gates see only a pseudonym of it, the same for all that person's rights, so a ban on the holder
refuses every one of them without personal data on the code or in the replica."""

from __future__ import annotations

import hashlib

HOLDER_ID_LENGTH = 16


def holder_id(reference: str) -> bytes:
    normalised = " ".join(reference.split()).casefold()
    return hashlib.sha256(b"entrix-holder\x00" + normalised.encode("utf-8")).digest()[
        :HOLDER_ID_LENGTH
    ]
