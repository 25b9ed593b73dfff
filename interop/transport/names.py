"""Output names (file names under DIR/fhir/, sink names) that distinct inputs never share.

`output_name("study", "7.7/1")` and `output_name("study", "7.7_1")` must differ although a file
system cannot hold "/" in a name: the key is reduced to a safe token, and whenever that reduction
changed it (replaced or dropped a character, shortened it) or the key has capitals (file systems
that ignore case would fold "A" and "a"), a hash of the exact key is appended. Keys that are already
safe, such as DICOM UIDs, keep their readable name: `study-1.2.3`.
"""

from __future__ import annotations

import hashlib
import re

_UNSAFE = re.compile(r"[^a-z0-9._-]+")
MAX_TOKEN = 120


def output_name(prefix: str, key: str) -> str:
    """`prefix-token`, or `prefix-token-hash` when the token alone could be shared by another key."""
    token = _UNSAFE.sub("_", key.lower()).strip("._-")[:MAX_TOKEN]
    if token == key and token:
        return f"{prefix}-{token}"
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{prefix}-{token or 'key'}-{digest}"
