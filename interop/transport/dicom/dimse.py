"""C-STORE-RQ command sets read and C-STORE-RSP command sets written directly (PS3.7 9.3.1), for the
node's C-STORE round trip.

pynetdicom decodes and encodes every DIMSE message through a pydicom Dataset of its command set
(`DIMSEMessage.decode_msg` + `message_to_primitive`, `primitive_to_message` + `encode_msg`): about
0.3 ms of CPU to read a C-STORE-RQ and 0.5 ms to write its C-STORE-RSP, as much as the rest of what
the node does for an instance apart from the disk flush. Both have a fixed form (Tables 9.3-1 and
9.3-2; Implicit VR Little Endian, PS3.7 6.3.1), so `install` gives the association

- a `dimse.receive_primitive` that assembles the fragments of a C-STORE-RQ (PS3.8 E.2: command
  fragments, then data set fragments) and reads its command set with `struct` into the same
  `C_STORE` primitive pynetdicom would queue; any other message, or a command set with an element it
  does not expect (Move Originator included), is replayed to pynetdicom's own `receive_primitive`
  from its first P-DATA;
- a `dimse.send_msg` that writes a C-STORE-RSP without Error Comment or Offending Element with
  `struct` and hands the same P-DATA primitive to pynetdicom's DUL; anything else goes through
  pynetdicom's encoder.

A C-STORE-RQ read this way is served (`Association._serve_request`: pynetdicom's Storage service
class, the node's EVT_C_STORE handler, the response) on the DUL thread that completed it rather than
queued for the association thread: a peer waits for each response anyway (one operation outstanding,
as negotiated), and the round trip then costs one thread hand-over (to the store's committer and back)
instead of three. Only for an established association on an accepted presentation context: the
paths of `_serve_request` that abort (and wait for the DUL thread) are never taken there. Release,
abort and the idle timer stay with the association thread.

Neither is used while an EVT_DIMSE_RECV/EVT_DIMSE_SENT handler is bound (pynetdicom's logging ones
are bound when its log is on) or pynetdicom writes received data sets to files.
`tests/dicom_net/test_reactor.py` checks that both give what pynetdicom gives.
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


_STORE_RQ_ELEMENTS = frozenset((0x0000, 0x0002, 0x0100, 0x0110, 0x0700, 0x0800, 0x1000))
_US = struct.Struct("<H")
_ELEMENT_HEADER = struct.Struct("<HHI")


def read_c_store_rq(command: bytes) -> tuple[int, str, str, int] | None:
    """(Message ID, Affected SOP Class UID, Affected SOP Instance UID, Priority) of a C-STORE-RQ command set
    with a data set and no other elements; None for anything else (left to pynetdicom)."""
    values: dict[int, bytes] = {}
    pos, end = 0, len(command)
    try:
        while pos < end:
            group, elem, length = _ELEMENT_HEADER.unpack_from(command, pos)
            pos += 8
            if group != 0x0000 or elem not in _STORE_RQ_ELEMENTS or pos + length > end or elem in values:
                return None
            values[elem] = command[pos:pos + length]
            pos += length
        if len(values) != len(_STORE_RQ_ELEMENTS):
            return None
        us = {elem: _US.unpack(values[elem])[0] for elem in (0x0100, 0x0110, 0x0700, 0x0800)}
        if us[0x0100] != 0x0001 or us[0x0800] == NO_DATA_SET:
            return None
        sop_class = values[0x0002].strip(b"\0 ").decode("ascii")
        sop_instance = values[0x1000].strip(b"\0 ").decode("ascii")
    except (struct.error, UnicodeDecodeError):
        return None
    return us[0x0110], sop_class, sop_instance, us[0x0700]


class _Assembly:
    """The P-DATA primitives of the message being received, while it may be a C-STORE-RQ."""

    def __init__(self) -> None:
        self.primitives: list[Any] = []
        self.command = bytearray()
        self.fields: tuple[int, str, str, int] | None = None  # once the command set is complete
        self.context_id = 0
        self.data = bytearray()


def install(assoc: Any, serve_inline: bool = True) -> bool:
    """Read `assoc`'s C-STORE requests with `read_c_store_rq` and send its plain C-STORE responses with
    `c_store_rsp`; with `serve_inline`, a C-STORE-RQ is served on the DUL thread that completed it. False
    if pynetdicom's classes are not as expected (nothing changed then)."""
    from .reactor import compatible

    if compatible():  # pynetdicom changed: its own DIMSE encoding and decoding, on its threads
        return False
    from pynetdicom import evt
    from pynetdicom.dimse_primitives import C_STORE
    from pynetdicom.pdu_primitives import P_DATA

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

    pynetdicom_receive = getattr(dimse, "receive_primitive", None)
    if pynetdicom_receive is None or not hasattr(dimse, "message"):
        return True
    from io import BytesIO

    from pynetdicom import _config

    state: dict[str, Any] = {"asm": None}

    def to_pynetdicom(primitives: list[Any]) -> None:
        for p in primitives:
            pynetdicom_receive(p)

    def receive_primitive(primitive: Any) -> None:
        asm: _Assembly | None = state["asm"]
        if asm is None:
            if dimse.message is not None or type(primitive) is not P_DATA or _config.STORE_RECV_CHUNKED_DATASET \
                    or assoc.get_handlers(evt.EVT_DIMSE_RECV):
                pynetdicom_receive(primitive)  # pynetdicom is assembling a message, or must see this one
                return
            asm = state["asm"] = _Assembly()
        asm.primitives.append(primitive)
        for context_id, pdv in primitive.presentation_data_value_list:
            header = pdv[0] if pdv else 0
            if header & 1:  # a command fragment
                if asm.fields is not None:
                    break  # a command after the command set: pynetdicom decides what that is
                asm.command += pdv[1:]
                if header & 2:
                    asm.fields = read_c_store_rq(bytes(asm.command))
                    asm.context_id = context_id
                    if asm.fields is None:
                        break
                continue
            if asm.fields is None:
                break  # data before the command set
            asm.data += pdv[1:]
            if header & 2:  # the last data set fragment: the C-STORE-RQ is complete
                state["asm"] = None
                message_id, sop_class, sop_instance, priority = asm.fields
                rq = C_STORE()
                rq.MessageID = message_id
                rq.AffectedSOPClassUID = sop_class
                rq.AffectedSOPInstanceUID = sop_instance
                rq.Priority = priority
                rq.DataSet = BytesIO(bytes(asm.data))
                rq._context_id = asm.context_id  # noqa: SLF001 - as DIMSEMessage.message_to_primitive sets it
                if serve_inline and assoc.is_established and not assoc._sent_release \
                        and asm.context_id in assoc._accepted_cx:  # noqa: SLF001
                    # served here, on the DUL thread (see module doc): its response is sent by this thread's next
                    # loop, with no hand-over to the association thread and back
                    assoc._serve_request(rq, asm.context_id)  # noqa: SLF001
                else:
                    dimse.msg_queue.put((asm.context_id, rq))
                return  # PDVs after the last fragment are dropped, as pynetdicom's decode_msg does
            continue
        else:
            return  # the message goes on in the next P-DATA
        state["asm"] = None  # not a C-STORE-RQ the fast path reads: pynetdicom gets it from its first P-DATA
        to_pynetdicom(asm.primitives)

    dimse.receive_primitive = receive_primitive
    return True
