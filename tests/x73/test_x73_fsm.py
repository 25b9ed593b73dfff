"""Manager state machine (fsm.py) driven through `Association` in manager mode.

The manager's answers are compared byte for byte with the Annex H manager APDUs (antidote H212,
H222, H242, rx_rlre_normal) when the manager uses the same system id.
"""

from __future__ import annotations

import pytest
from interop.codecs.ieee11073 import apdu, fsm
from interop.codecs.ieee11073 import nomenclature as nom
from interop.codecs.ieee11073.association import Association
from interop.codecs.ieee11073.configurations import ConfigStore

from .vectors import load

ANNEX_H_MANAGER = bytes.fromhex("1122334455667788")


def manager(**kw) -> Association:
    kw.setdefault("request_mds", False)
    return Association(mode="manager", manager_system_id=ANNEX_H_MANAGER, **kw)


def test_table_covers_every_state_and_actions_quote_the_standard() -> None:
    states = {state for _, state in fsm.TRANSITION_TABLE}
    assert states == set(fsm.STATES)
    for action in set(fsm.TRANSITION_TABLE.values()):
        assert "Event:" in action.__doc__ and "Action:" in action.__doc__


def test_annex_h_session_answers_are_the_annex_bytes() -> None:
    m = manager()
    assert m.receive(load("antidote_H211")) == [load("antidote_H212")]  # AARE accepted-unknown-config
    assert m.state == fsm.CONFIGURING
    assert m.receive(load("antidote_H221")) == [load("antidote_H222")]  # config response accepted
    assert m.state == fsm.OPERATING
    m.receive(load("antidote_H233"))  # GET response (MDS attributes)
    assert m.receive(load("antidote_H241")) == [load("antidote_H242")]  # scan report response
    assert m.receive(load("antidote_rx_rlrq_normal")) == [load("antidote_rx_rlre_normal")]
    assert m.state == fsm.UNASSOCIATED and m.ended == "released"
    assert [str(q.value.quantity.value) for q in m.metrics] == ["62.4", "25.6"]
    assert [after for _, _, after in m.fsm.history] == [
        "associating", "configuring", "operating", "operating", "operating", "unassociated"]



def test_history_keeps_only_the_latest_transitions_of_a_long_association() -> None:
    m = manager()
    m.receive(load("antidote_H211"))
    m.receive(load("antidote_H221"))
    for _ in range(fsm.HISTORY_LENGTH + 50):  # a monitor that reports for days on one association
        m.receive(load("antidote_H241"))
    assert len(m.fsm.history) == fsm.HISTORY_LENGTH
    assert m.fsm.history[-1] == (m.fsm.history[-1][0], "operating", "operating")
    assert m.fsm.history[0][1:] == ("operating", "operating")  # associating/configuring have aged out

def test_standard_config_goes_straight_to_operating_and_asks_for_mds() -> None:
    m = manager(request_mds=True)
    out = m.receive(load("antidote_H211_ID_02BC"))
    aare, get = (apdu.parse_apdu(o) for o in out)
    assert aare.apdu.result == nom.ACCEPTED
    assert (get.apdu.choice, get.apdu.message.obj_handle) == (nom.ROIV_CMIP_GET_CHOSEN, 0)
    assert m.state == fsm.OPERATING


def test_extended_config_is_remembered_per_system_id(tmp_path) -> None:
    store = ConfigStore(tmp_path)
    first = manager(store=store)
    first.receive(load("antidote_H211"))
    first.receive(load("antidote_H221"))
    again = manager(store=ConfigStore(tmp_path))  # a new process reading the same directory
    (aare,) = again.receive(load("antidote_H211"))
    assert apdu.parse_apdu(aare).apdu.result == nom.ACCEPTED
    assert again.state == fsm.OPERATING


def test_report_before_association_is_aborted_and_manager_survives() -> None:
    m = manager()
    (abrt,) = m.receive(load("antidote_H241"))
    assert apdu.parse_apdu(abrt).choice == nom.ABRT_CHOSEN
    assert m.state == fsm.UNASSOCIATED
    assert apdu.parse_apdu(m.receive(load("antidote_H211"))[0]).apdu.result == nom.ACCEPTED_UNKNOWN_CONFIG


def test_unknown_handle_gets_roer_and_association_continues() -> None:
    m = manager()
    m.receive(load("antidote_H211_ID_05DC"))
    (roer,) = m.receive(load("antidote_H241_ID_05DC"))
    v = apdu.parse_apdu(roer).apdu
    assert (v.invoke_id, v.choice, v.message.error_value) == (0x1236, nom.ROER_CHOSEN, nom.NO_SUCH_OBJECT_INSTANCE)
    assert m.state == fsm.OPERATING
    assert len(m.metrics) == 2  # the known handle's values are kept
    # recorded with the byte offset of each ObservationScanFixed of handle 3 (APDU given at offset 0)
    assert [(i.code, i.offset) for i in m.issues if i.severity == "error"] == [("x73.unknown-handle", 46),
                                                                              ("x73.unknown-handle", 78)]


def test_report_while_configuring_gets_roer_not_allowed() -> None:
    m = manager()
    m.receive(load("antidote_H211"))
    (roer,) = m.receive(load("antidote_H241"))
    assert apdu.parse_apdu(roer).apdu.message.error_value == nom.NOT_ALLOWED_BY_OBJECT
    assert m.state == fsm.CONFIGURING


def test_unsupported_configuration_is_refused() -> None:
    m = manager()
    m.receive(load("antidote_H211"))
    bad = apdu.parse_apdu(load("antidote_H221"))
    del bad.apdu.message.event_info.config_obj_list[0].attributes[0]  # drop MDC_ATTR_ID_TYPE of handle 1
    (rsp,) = m.receive(apdu.build_apdu(bad))
    assert apdu.parse_apdu(rsp).apdu.message.event_reply_info.config_result == nom.UNSUPPORTED_CONFIG
    assert m.state == fsm.CONFIGURING


@pytest.mark.parametrize("state_setup", ["configuring", "operating"])
def test_invalid_apdu_aborts(state_setup: str) -> None:
    m = manager()
    m.receive(load("antidote_H211" if state_setup == "configuring" else "antidote_H211_ID_02BC"))
    (abrt,) = m.invalid_apdu()
    assert apdu.parse_apdu(abrt).apdu.reason == nom.ABORT_REASON_UNDEFINED
    assert m.state == fsm.UNASSOCIATED


def test_agent_abort_and_manager_release() -> None:
    m = manager()
    m.receive(load("antidote_H211_ID_02BC"))
    assert m.receive(load("antidote_rx_abrt_undefined")) == []
    assert m.ended == "aborted" and m.state == fsm.UNASSOCIATED
    m2 = manager()
    m2.receive(load("antidote_H211_ID_02BC"))
    (rlrq,) = m2.release()
    assert rlrq == load("antidote_rx_rlrq_normal")
    assert m2.state == fsm.DISASSOCIATING
    m2.receive(load("antidote_rx_rlre_normal"))
    assert m2.state == fsm.UNASSOCIATED and m2.ended == "released"
