"""Manager state machine of IEEE 11073-20601 (clause 8 and the manager state table of annex E), as a table.

States: unassociated → associating → configuring → operating → disassociating → unassociated.
`TRANSITION_TABLE[(event, state)]` names the action; each action is one small function whose
docstring quotes the event and the action the standard prescribes, does the action through the
`Association` it is given (which builds the APDUs) and returns the next state. Pairs absent from the
table are answered by `default_action` (20601: an APDU that is not allowed in a state aborts).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import nomenclature as nom

if TYPE_CHECKING:
    from .association import Association

UNASSOCIATED = "unassociated"
ASSOCIATING = "associating"
CONFIGURING = "configuring"
OPERATING = "operating"
DISASSOCIATING = "disassociating"
STATES = (UNASSOCIATED, ASSOCIATING, CONFIGURING, OPERATING, DISASSOCIATING)

# Events (20601 manager state table wording)
RX_AARQ = "rx-aarq"
RX_AARQ_KNOWN = "rx-aarq-acceptable-and-known-configuration"
RX_AARQ_UNKNOWN = "rx-aarq-acceptable-and-unknown-configuration"
RX_AARQ_UNACCEPTABLE = "rx-aarq-unacceptable-configuration"
RX_AARE = "rx-aare"
RX_RLRQ = "rx-rlrq"
RX_RLRE = "rx-rlre"
RX_ABRT = "rx-abrt"
RX_CONFIG_SUPPORTED = "rx-roiv-confirmed-event-report-config-supported"
RX_CONFIG_UNSUPPORTED = "rx-roiv-confirmed-event-report-config-unsupported"
RX_EVENT_REPORT = "rx-roiv-event-report"  # any non-config event report, confirmed or not
RX_ROIV_OTHER = "rx-roiv-get-set-action"  # the agent invoking GET/SET/ACTION on the manager
RX_RORS = "rx-rors"
RX_ROER = "rx-roer"
RX_RORJ = "rx-rorj"
RX_INVALID = "rx-invalid-apdu"
RX_MALFORMED_PRST = "rx-prst-malformed"  # a PRST whose invoke-id is readable but whose content is not
REQ_ASSOC_REL = "req-assoc-rel"  # the manager application asks to release
TRANSPORT_DISCONNECT = "transport-disconnect"

Action = Callable[["Association", Any], str]


def aarq_received(assoc: Association, apdu: Any) -> str:
    """Event: Rx AARQ. Action: check the association request (data protocol 20601, MDER encoding, protocol
    version, whether the dev-config-id is known for this system id). Next: Associating."""
    return ASSOCIATING


def aare_accepted(assoc: Association, apdu: Any) -> str:
    """Event: Rx AARQ (acceptable and known configuration). Action: Tx AARE (accepted). Next: Operating."""
    assoc.start_association(apdu)
    assoc.send_aare(nom.ACCEPTED)
    assoc.enter_operating()
    return OPERATING


def aare_accepted_unknown_config(assoc: Association, apdu: Any) -> str:
    """Event: Rx AARQ (acceptable and unknown configuration). Action: Tx AARE (accepted-unknown-config).
    Next: Configuring (waiting for the configuration event report)."""
    assoc.start_association(apdu)
    assoc.send_aare(nom.ACCEPTED_UNKNOWN_CONFIG)
    return CONFIGURING


def aare_rejected(assoc: Association, apdu: Any) -> str:
    """Event: Rx AARQ (unacceptable configuration). Action: Tx AARE (rejected-*). Next: Unassociated."""
    assoc.send_aare(assoc.rejection_reason(apdu))
    return UNASSOCIATED


def config_accepted(assoc: Association, apdu: Any) -> str:
    """Event: Rx roiv-cmip-confirmed-event-report (MDC_NOTI_CONFIG, supported).
    Action: Tx rors-cmip-confirmed-event-report (accepted-config). Next: Operating."""
    assoc.accept_configuration(apdu)
    assoc.enter_operating()
    return OPERATING


def config_unsupported(assoc: Association, apdu: Any) -> str:
    """Event: Rx roiv-cmip-confirmed-event-report (MDC_NOTI_CONFIG, not supported).
    Action: Tx rors-cmip-confirmed-event-report (unsupported-config). Next: Configuring (waiting)."""
    assoc.reject_configuration(apdu)
    return CONFIGURING


def roer_not_allowed(assoc: Association, apdu: Any) -> str:
    """Event: Rx roiv-* other than the configuration report while Configuring.
    Action: Tx roer (not-allowed-by-object) to a confirmed invoke; stay Configuring."""
    assoc.send_roer(apdu, nom.NOT_ALLOWED_BY_OBJECT)
    return CONFIGURING


def roer_config_while_operating(assoc: Association, apdu: Any) -> str:
    """Event: Rx MDC_NOTI_CONFIG while Operating. Action: Tx roer (not-allowed-by-object). Next: Operating."""
    assoc.send_roer(apdu, nom.NOT_ALLOWED_BY_OBJECT)
    return OPERATING


def event_report(assoc: Association, apdu: Any) -> str:
    """Event: Rx roiv-cmip-(confirmed-)event-report while Operating.
    Action: process the report; Tx rors-cmip-confirmed-event-report when confirmed (roer for an unknown
    object). Next: Operating."""
    assoc.process_event_report(apdu)
    return OPERATING


def roer_no_such_action(assoc: Association, apdu: Any) -> str:
    """Event: Rx roiv-cmip-get/set/action addressed to the manager. Action: Tx roer (no-such-object-instance);
    state unchanged."""
    assoc.send_roer(apdu, nom.NO_SUCH_OBJECT_INSTANCE)
    return assoc.state


def response_received(assoc: Association, apdu: Any) -> str:
    """Event: Rx rors-* (answer to a manager GET/SET/ACTION). Action: process it; state unchanged."""
    assoc.process_response(apdu)
    return assoc.state


def error_received(assoc: Association, apdu: Any) -> str:
    """Event: Rx roer / rorj. Action: record it (the invoke failed); state unchanged."""
    assoc.process_error(apdu)
    return assoc.state


def rorj_badly_structured(assoc: Association, invoke_id: Any) -> str:
    """Event: Rx a PRST (roiv-*) that cannot be decoded while Operating. Action: Tx rorj (badly-structured-apdu)
    to its invoke-id; the association goes on (20601 manager state table, Operating: a reject answers an invoke
    that cannot be understood; ABRT is for APDUs that cannot be framed or are not allowed in the state).
    Next: Operating."""
    assoc.send_rorj(invoke_id, nom.BADLY_STRUCTURED_APDU)
    return OPERATING


def rlre_normal(assoc: Association, apdu: Any) -> str:
    """Event: Rx RLRQ. Action: Tx RLRE (normal). Next: Unassociated."""
    assoc.send_rlre()
    assoc.end_association("released")
    return UNASSOCIATED


def release_request(assoc: Association, apdu: Any) -> str:
    """Event: manager application requests release. Action: Tx RLRQ (normal). Next: Disassociating."""
    assoc.send_rlrq()
    return DISASSOCIATING


def released(assoc: Association, apdu: Any) -> str:
    """Event: Rx RLRE while Disassociating. Action: none. Next: Unassociated."""
    assoc.end_association("released")
    return UNASSOCIATED


def aborted(assoc: Association, apdu: Any) -> str:
    """Event: Rx ABRT (or transport disconnect). Action: none (the association ends). Next: Unassociated."""
    assoc.end_association("aborted")
    return UNASSOCIATED


def ignore(assoc: Association, apdu: Any) -> str:
    """Event: Rx ABRT while Unassociated, or a late roiv while Disassociating. Action: none; state unchanged."""
    return assoc.state


def abort_undefined(assoc: Association, apdu: Any) -> str:
    """Event: Rx an APDU not allowed in this state (AARE, RLRE, PRST before association, AARQ while associated)
    or an invalid APDU. Action: Tx ABRT (undefined). Next: Unassociated."""
    assoc.send_abrt(nom.ABORT_REASON_UNDEFINED)
    assoc.end_association("aborted")
    return UNASSOCIATED


default_action = abort_undefined

TRANSITION_TABLE: dict[tuple[str, str], Action] = {
    # Unassociated
    (RX_AARQ, UNASSOCIATED): aarq_received,
    (RX_AARE, UNASSOCIATED): abort_undefined,
    (RX_RLRQ, UNASSOCIATED): abort_undefined,
    (RX_RLRE, UNASSOCIATED): abort_undefined,
    (RX_ABRT, UNASSOCIATED): ignore,
    (RX_EVENT_REPORT, UNASSOCIATED): abort_undefined,
    (RX_CONFIG_SUPPORTED, UNASSOCIATED): abort_undefined,
    (RX_CONFIG_UNSUPPORTED, UNASSOCIATED): abort_undefined,
    (RX_RORS, UNASSOCIATED): abort_undefined,
    (RX_INVALID, UNASSOCIATED): abort_undefined,
    (TRANSPORT_DISCONNECT, UNASSOCIATED): ignore,
    # Associating (the AARQ is being checked; the check's verdict is the next event)
    (RX_AARQ_KNOWN, ASSOCIATING): aare_accepted,
    (RX_AARQ_UNKNOWN, ASSOCIATING): aare_accepted_unknown_config,
    (RX_AARQ_UNACCEPTABLE, ASSOCIATING): aare_rejected,
    (RX_ABRT, ASSOCIATING): aborted,
    (RX_INVALID, ASSOCIATING): abort_undefined,
    (TRANSPORT_DISCONNECT, ASSOCIATING): aborted,
    # Configuring (waiting for / checking the configuration)
    (RX_CONFIG_SUPPORTED, CONFIGURING): config_accepted,
    (RX_CONFIG_UNSUPPORTED, CONFIGURING): config_unsupported,
    (RX_EVENT_REPORT, CONFIGURING): roer_not_allowed,
    (RX_ROIV_OTHER, CONFIGURING): roer_not_allowed,
    (RX_RORS, CONFIGURING): response_received,
    (RX_ROER, CONFIGURING): error_received,
    (RX_RORJ, CONFIGURING): error_received,
    (RX_RLRQ, CONFIGURING): rlre_normal,
    (RX_ABRT, CONFIGURING): aborted,
    (RX_AARQ, CONFIGURING): abort_undefined,
    (RX_AARE, CONFIGURING): abort_undefined,
    (RX_RLRE, CONFIGURING): abort_undefined,
    (RX_INVALID, CONFIGURING): abort_undefined,
    (REQ_ASSOC_REL, CONFIGURING): release_request,
    (TRANSPORT_DISCONNECT, CONFIGURING): aborted,
    # Operating
    (RX_EVENT_REPORT, OPERATING): event_report,
    (RX_CONFIG_SUPPORTED, OPERATING): roer_config_while_operating,
    (RX_CONFIG_UNSUPPORTED, OPERATING): roer_config_while_operating,
    (RX_ROIV_OTHER, OPERATING): roer_no_such_action,
    (RX_RORS, OPERATING): response_received,
    (RX_ROER, OPERATING): error_received,
    (RX_RORJ, OPERATING): error_received,
    (RX_RLRQ, OPERATING): rlre_normal,
    (RX_ABRT, OPERATING): aborted,
    (RX_AARQ, OPERATING): abort_undefined,
    (RX_AARE, OPERATING): abort_undefined,
    (RX_RLRE, OPERATING): abort_undefined,
    (RX_INVALID, OPERATING): abort_undefined,
    (RX_MALFORMED_PRST, OPERATING): rorj_badly_structured,
    (REQ_ASSOC_REL, OPERATING): release_request,
    (TRANSPORT_DISCONNECT, OPERATING): aborted,
    # Disassociating
    (RX_RLRE, DISASSOCIATING): released,
    (RX_RLRQ, DISASSOCIATING): rlre_normal,
    (RX_ABRT, DISASSOCIATING): aborted,
    (RX_EVENT_REPORT, DISASSOCIATING): ignore,
    (RX_RORS, DISASSOCIATING): ignore,
    (RX_ROER, DISASSOCIATING): ignore,
    (RX_RORJ, DISASSOCIATING): ignore,
    (RX_INVALID, DISASSOCIATING): abort_undefined,
    (TRANSPORT_DISCONNECT, DISASSOCIATING): aborted,
}


HISTORY_LENGTH = 256  # transitions kept for diagnostics (conformance reports, logs)


class StateMachine:
    """Looks up (event, state) and runs the action; the action returns the next state."""

    def __init__(self, association: Association) -> None:
        self.association = association
        self.current_state = UNASSOCIATED
        # (event, state before, state after) of the latest transitions: an agent that stays associated for
        # days sends an APDU per measurement, so only the last HISTORY_LENGTH are kept
        self.history: deque[tuple[str, str, str]] = deque(maxlen=HISTORY_LENGTH)

    def do_action(self, event: str, apdu: Any = None) -> str:
        """Run the action for `event` in the current state and move to the state it returns."""
        action = TRANSITION_TABLE.get((event, self.current_state), default_action)
        before = self.current_state
        self.current_state = action(self.association, apdu)
        self.history.append((event, before, self.current_state))
        return self.current_state
