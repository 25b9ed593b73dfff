"""IHE PCD-04 acknowledgement: ORU^R40 answered with ORA^R41^ORA_R41 (MSH, MSA, [ERR]) by the builder and by
`serve mllp` over a real socket on 127.0.0.1, when MSH-21 names IHE_PCD_ACM_001 or --ora-r41 asks."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from interop.transport.mllp.ack import AckError, build_ora_r41, build_reply, wants_ora_r41
from interop.transport.mllp.framing import Block, FrameScanner, frame
from interop.transport.mllp.receiver import read_header
from interop.transport.mllp.server import MllpConfig
from interop.transport.mllp.service import MllpService

DATA = Path(__file__).resolve().parents[1] / "data" / "hl7v2"
BBRAUN = (DATA / "pcd04-bbraun-intellibridge-start.hl7").read_bytes()  # MSH-15 AL, MSH-16 NE, MSH-21 ACM
GE = (DATA / "pcd04-ge-mural-advisory.hl7").read_bytes()
NO_PROFILE = BBRAUN.split(b"\r", 1)[0].rsplit(b"|", 1)[0] + b"|\r" + BBRAUN.split(b"\r", 1)[1]  # MSH-21 cut
ORIGINAL = NO_PROFILE.replace(b"|2.6|||AL|NE|", b"|2.6|||||", 1)  # original acknowledgement mode


def _segments(ack: bytes) -> list[list[str]]:
    return [s.split("|") for s in ack.decode().split("\r") if s]


def test_builder_exact_segments():
    header = read_header(BBRAUN)
    ora = build_ora_r41(header, "CA", control_id="ORA1", timestamp="20240102030405+0100")
    msh, msa = _segments(ora)
    assert msh[:12] == ["MSH", "^~\\&", "AM_Philips_IEM^00095CFFFE741952^EUI-64", "Philips",
                        "PAT_DEVICE_BBRAUN^0012211839000001^EUI64", "BBRAUN", "20240102030405+0100", "",
                        "ORA^R41^ORA_R41", "ORA1", "P", "2.6"]
    assert msh[17] == "ASCII"  # MSH-18 as the alert declared it
    assert msh[20] == "IHE_PCD_ACM_001^IHE PCD^1.3.6.1.4.1.19376.1.6.4.4.1^ISO"  # MSH-21: the PCD-04 profile
    assert msa == ["MSA", "CA", "6346172845752460251"]


def test_builder_error_segment_v26():
    header = read_header(BBRAUN)
    ora = build_ora_r41(header, "CE", (AckError("101", "OBR-3 alert identifier is empty", "OBR", 3),),
                        control_id="ORA2", timestamp="20240102030405+0100")
    msh, msa, err = _segments(ora)
    assert msa == ["MSA", "CE", "6346172845752460251"]
    assert err[:5] == ["ERR", "", "OBR^1^3", "101^Required field missing^HL70357", "E"]
    assert err[8] == "OBR-3 alert identifier is empty"


def test_when_an_ora_r41_is_sent():
    acm, plain, ge = read_header(BBRAUN), read_header(NO_PROFILE), read_header(GE)
    assert wants_ora_r41(acm, "CA") and wants_ora_r41(ge, "CA")  # MSH-21 IHE_PCD_ACM_001
    assert not wants_ora_r41(plain, "CA") and wants_ora_r41(plain, "CA", always=True)
    assert not wants_ora_r41(acm, None)  # nothing asked for, nothing sent
    oru_r01 = read_header(BBRAUN.replace(b"ORU^R40^ORU_R40", b"ORU^R01^ORU_R01", 1))
    assert not wants_ora_r41(oru_r01, "CA", always=True)  # only alerts get ORA^R41
    assert _segments(build_reply(plain, "CA"))[0][8] == "ACK^R40^ACK"
    assert _segments(build_reply(plain, "CA", ora_r41=True))[0][8] == "ORA^R41^ORA_R41"


class _Peer:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.scanner = FrameScanner(1 << 20)

    def exchange(self, payload: bytes) -> bytes:
        self.sock.sendall(frame(payload))
        while True:
            data = self.sock.recv(65536)
            assert data, "connection closed without an acknowledgement"
            blocks = [e.payload for e in self.scanner.feed(data) if isinstance(e, Block)]
            if blocks:
                return blocks[0]

    def close(self) -> None:
        self.sock.close()


@pytest.fixture()
def server(tmp_path: Path):
    started = []

    def start(**cfg) -> MllpService:
        svc = MllpService(MllpConfig(port=0, **cfg), store_dir=tmp_path / f"store{len(started)}")
        svc.start()
        started.append(svc)
        return svc

    yield start
    for svc in started:
        svc.stop()


def test_serve_mllp_answers_alerts_with_ora_r41(server):
    svc = server()
    peer = _Peer(svc.port)
    try:
        acm = _segments(peer.exchange(BBRAUN))
        assert acm[0][8] == "ORA^R41^ORA_R41" and acm[1][:3] == ["MSA", "CA", "6346172845752460251"]
        plain = _segments(peer.exchange(NO_PROFILE.replace(b"|6346172845752460251|", b"|CTRL-2|", 1)))
        assert plain[0][8] == "ACK^R40^ACK" and plain[1][:3] == ["MSA", "CA", "CTRL-2"]
    finally:
        peer.close()


def test_serve_mllp_ora_r41_flag_and_original_mode(server):
    svc = server(ora_r41=True)
    peer = _Peer(svc.port)
    try:
        answer = _segments(peer.exchange(ORIGINAL))
        assert answer[0][8] == "ORA^R41^ORA_R41" and answer[1][:3] == ["MSA", "AA", "6346172845752460251"]
        bad = _segments(peer.exchange(ORIGINAL.replace(b"|2.6|", b"|9.9|", 1).replace(b"6346172845752460251",
                                                                                       b"CTRL-3", 1)))
        assert bad[0][8] == "ORA^R41^ORA_R41" and bad[1][:3] == ["MSA", "AR", "CTRL-3"]
        assert bad[2][0] == "ERR" and bad[2][3].startswith("203^")  # unsupported version id, table 0357
    finally:
        peer.close()
