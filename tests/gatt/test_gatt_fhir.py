"""Whatever the GATT codec decodes maps to FHIR that fhir.resources accepts (R4B and R5)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from interop.codecs.ieee11073.gatt.characteristics import CHARACTERISTICS
from interop.codecs.ieee11073.gatt.codec import GattCodec
from interop.mappings.fhir.bundle import to_bundle

from interop.errors import DecodeError

CODEC = GattCodec()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(CHARACTERISTICS)), st.binary(min_size=1, max_size=30), st.sampled_from(["R4", "R5"]))
def test_decoded_values_map_to_valid_fhir(uuid: int, value: bytes, version: str) -> None:
    text = f"# characteristic: {uuid:04X}\n# device: 00-1C-05-FF-FE-FF-E8-74\n# manufacturer: M\n# model: X\n"
    try:
        msg = CODEC.decode((text + value.hex() + "\n").encode())
    except DecodeError:
        return
    to_bundle(msg, version).to_model()  # raises on any invalid resource
