"""C-STORE-RSP command sets written directly (PS3.7 9.3.1.2), for the node's C-STORE round trip.

pynetdicom encodes every DIMSE message by building a pydicom Dataset of the command set and writing it
(`DIMSEMessage.primitive_to_message` + `encode_msg`): about half a millisecond of CPU for the seven
elements of a C-STORE-RSP, a fifth of what a whole C-STORE may cost the node to reach half of
storescp's rate. The response of a successful store has a fixed form (Table 9.3-2: Affected SOP
Class UID, Command Field 8001H, Message ID Being Responded To, Command Data Set Type 0101H, Status,
Affected SOP Instance UID; Implicit VR Little Endian, PS3.7 6.3.1), so `install` replaces the
association's `dimse.send_msg` with one that writes it with `struct` and hands the same P-DATA
primitive to pynetdicom's DUL. Any other message, a response with an Error Comment or Offending
Element, a peer whose maximum PDU length is too small for one fragment, or an EVT_DIMSE_SENT handler
bound by someone goes through pynetdicom's own encoder. `tests/dicom_net/test_reactor.py` checks that
both give the same bytes.
"""

from __future__ import annotations

import struct
from typing import Any

C_STORE_RSP = 0x8001
NO_DATA_SET = 0x0101
LAST_COMMAND_FRAGMENT = b"\x03"  # message control header: command, last fragment (PS3.8 E.2)


def _element(elem: int, value: bytes) -> bytes:
    return struct.pack("<HHI", 0x0000, elem, len(value)) + value


def _uid(uid: str) -> bytes:
    raw = uid.encode("ascii")
    return raw + b"\0" if len(raw) % 2 else raw  # UI padded with NUL to an even length (PS3.5 6.2)


def c_store_rsp(message_id: int, status: int, sop_class: str | None, sop_instance: str | None) -> bytes:
    """The command set of a C-STORE-RSP without Error Comment or Offending Element, group length included."""
    body = b"".join((
        _element(0x0002, _uid(sop_class)) if sop_class is not None else b"",
        _element(0x0100, struct.pack("<H", C_STORE_RSP)),
        _element(0x0120, struct.pack("<H", message_id)),
        _element(0x0800, struct.pack("<H", NO_DATA_SET)),
        _element(0x0900, struct.pack("<H", status)),
        _element(0x1000, _uid(sop_instance)) if sop_instance is not None else b"",
    ))
    return _element(0x0000, struct.pack("<I", len(body))) + body


def install(assoc: Any) -> bool:
    """Send `assoc`'s plain C-STORE responses with `c_store_rsp`; False if pynetdicom's classes are not
    as expected (nothing changed then)."""
    try:
        from pynetdicom import evt
        from pynetdicom.dimse_primitives import C_STORE
        from pynetdicom.pdu_primitives import P_DATA
    except ImportError:
        return False
    dimse = assoc.dimse
    pynetdicom_send = getattr(dimse, "send_msg", None)
    if pynetdicom_send is None:
        return False

    def send_msg(primitive: Any, context_id: int) -> None:
        if type(primitive) is C_STORE and primitive.MessageIDBeingRespondedTo is not None \
                and primitive.ErrorComment is None and primitive.OffendingElement is None \
                and isinstance(primitive.Status, int) and not assoc.get_handlers(evt.EVT_DIMSE_SENT):
            sop_class, sop_instance = primitive.AffectedSOPClassUID, primitive.AffectedSOPInstanceUID
            command = c_store_rsp(primitive.MessageIDBeingRespondedTo, primitive.Status,
                                  None if sop_class is None else str(sop_class),
                                  None if sop_instance is None else str(sop_instance))
            limit = dimse.maximum_pdu_size
            if not limit or len(command) <= limit - 6:  # one fragment, as pynetdicom would send it
                pdata = P_DATA()
                pdata.presentation_data_value_list.append((context_id, LAST_COMMAND_FRAGMENT + command))
                assoc.dul.send_pdu(pdata)
                return
        pynetdicom_send(primitive, context_id)

    dimse.send_msg = send_msg
    return True
