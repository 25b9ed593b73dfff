"""Agent-side APDUs built from the same declarations (simulators, example traces, tests).

Profiles describe what a simulated device measures, keyed by standard configuration; values are
decimal strings so the stated precision travels into SFLOAT/FLOAT ("60.0" stays 60.0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import apdu, attributes, configurations, mder
from . import nomenclature as nom


@dataclass(frozen=True)
class Profile:
    """A simulated agent: standard configuration, identity and two sets of readings (handle -> values)."""

    name: str
    config_id: int
    system_id: bytes
    manufacturer: str
    model: str
    readings: tuple[dict[int, tuple[str, ...]], ...]
    serial: str = "SIM-0001"
    specialization: int = 0
    extras: dict[str, Any] = field(default_factory=dict)


PROFILES = {
    "x73-bp": Profile("x73-bp", 700, bytes.fromhex("0A1B2C3D4E5F0702"), "Example Devices", "BPM-700",
                      ({1: ("120", "80", "100"), 2: ("60.0",)}, {1: ("118", "76", "90"), 2: ("72",)}),
                      specialization=4103),
    "x73-pulseox": Profile("x73-pulseox", 400, bytes.fromhex("0A1B2C3D4E5F0401"), "Example Devices", "OX-400",
                           ({1: ("98",), 10: ("72",)}, {1: ("97",), 10: ("75",)}), specialization=4100),
    "x73-thermo": Profile("x73-thermo", 800, bytes.fromhex("0A1B2C3D4E5F0801"), "Example Devices", "TH-800",
                          ({1: ("36.6",)}, {1: ("37.2",)}), specialization=4104),
    "x73-scale": Profile("x73-scale", 1500, bytes.fromhex("0A1B2C3D4E5F1501"), "Example Devices", "WS-1500",
                         ({1: ("76.2",)}, {1: ("76.0",)}), specialization=4111),
    "x73-glucose": Profile("x73-glucose", 1700, bytes.fromhex("0A1B2C3D4E5F1701"), "Example Devices", "GL-1700",
                           ({1: ("95",)}, {1: ("102",)}), specialization=4113),
}
EXTENDED_CONFIG_ID = 0x4000


def aarq(system_id: bytes, config_id: int) -> bytes:
    """AARQ of an MDER agent (protocol version 1, nomenclature version 1) asking for `config_id`."""
    info = {"protocol_version": 0x80000000, "encoding_rules": nom.MDER_ENCODING, "nomenclature_version": 0x80000000,
            "functional_units": 0, "system_type": 0x00800000, "system_id": system_id, "dev_config_id": config_id,
            "data_req_mode_capab": {"data_req_mode_flags": 0x0001, "data_req_init_agent_count": 1,
                                    "data_req_init_manager_count": 0},
            "option_list": []}
    return apdu.build_apdu({"choice": nom.AARQ_CHOSEN, "apdu": {"assoc_version": 0x80000000, "data_proto_list": [
        {"data_proto_id": nom.DATA_PROTO_ID_20601, "data_proto_info": info}]}})


def _prst(invoke_id: int, choice: int, message: dict[str, Any]) -> bytes:
    return apdu.build_apdu({"choice": nom.PRST_CHOSEN,
                            "apdu": {"invoke_id": invoke_id, "choice": choice, "message": message}})


def config_report(invoke_id: int, config_id: int, objects_of: int, entry: dict[str, Any] | None = None) -> bytes:
    """Confirmed MDC_NOTI_CONFIG announcing the objects of standard configuration `objects_of` as `config_id`
    (or those of `entry`, a configuration in the data file's shape: an agent's own extended configuration)."""
    report = configurations.config_report_value(entry or configurations.standard_entry(objects_of))
    report["config_report_id"] = config_id
    return _prst(invoke_id, nom.ROIV_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN, {
        "obj_handle": 0, "event_time": 0xFFFFFFFF, "event_type": nom.MDC_NOTI_CONFIG, "event_info": report})


def _encode_value(attr_id: int, values: tuple[str, ...], when: datetime) -> bytes:
    if attr_id == nom.MDC_ATTR_TIME_STAMP_ABS:
        return mder.encode_absolute_time(when)
    if attr_id == nom.MDC_ATTR_NU_VAL_OBS_BASIC:
        return attributes.encode(attr_id, mder.encode_sfloat(values[0]))
    if attr_id == nom.MDC_ATTR_NU_VAL_OBS_SIMP:
        return attributes.encode(attr_id, mder.encode_float(values[0]))
    if attr_id == nom.MDC_ATTR_NU_CMPD_VAL_OBS_BASIC:
        return attributes.encode(attr_id, [mder.encode_sfloat(v) for v in values])
    if attr_id == nom.MDC_ATTR_NU_CMPD_VAL_OBS_SIMP:
        return attributes.encode(attr_id, [mder.encode_float(v) for v in values])
    raise ValueError(f"the simulator cannot fill {attributes.name(attr_id)}")


def scan_report_fixed(invoke_id: int, config_id: int, readings: dict[int, tuple[str, ...]], when: datetime,
                      report_no: int = 0, *, confirmed: bool = True, objects_of: int | None = None) -> bytes:
    """MDC_NOTI_SCAN_REPORT_FIXED with one observation per handle, laid out by the objects' value maps."""
    conf = configurations.standard(objects_of or config_id)
    observations = []
    for handle, values in readings.items():
        obj = conf.objects[handle]
        data = b"".join(_encode_value(a, values, when) for a, _ in obj.val_map)
        observations.append({"obj_handle": handle, "obs_val_data": data})
    choice = nom.ROIV_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN if confirmed else nom.ROIV_CMIP_EVENT_REPORT_CHOSEN
    return _prst(invoke_id, choice, {
        "obj_handle": 0, "event_time": 0xFFFFFFFF, "event_type": 3357,
        "event_info": {"data_req_id": 0xF000, "scan_report_no": report_no, "obs_scan_fixed": observations}})


def mds_attributes(invoke_id: int, profile: Profile, config_id: int, now: datetime) -> bytes:
    """rors-cmip-get with the MDS attributes a manager asks for after association (20601 clause 6.3)."""
    def ava(attr_id: int, value: Any) -> dict[str, Any]:
        return {"attribute_id": attr_id, "attribute_value": attributes.encode(attr_id, value)}
    avas = [
        ava(nom.MDC_ATTR_SYS_TYPE_SPEC_LIST, [{"type": profile.specialization, "version": 1}]),
        ava(nom.MDC_ATTR_ID_MODEL, {"manufacturer": profile.manufacturer.encode(),
                                    "model_number": profile.model.encode()}),
        ava(nom.MDC_ATTR_SYS_ID, profile.system_id),
        ava(nom.MDC_ATTR_DEV_CONFIG_ID, config_id),
        ava(nom.MDC_ATTR_ID_PROD_SPECN, [{"spec_type": 1, "component_id": 0, "prod_spec": profile.serial.encode()}]),
        {"attribute_id": nom.MDC_ATTR_TIME_ABS, "attribute_value": mder.encode_absolute_time(now)},
    ]
    return _prst(invoke_id, nom.RORS_CMIP_GET_CHOSEN, {"obj_handle": 0, "attribute_list": avas})


def rlrq() -> bytes:
    """RLRQ (normal)."""
    return apdu.build_apdu({"choice": nom.RLRQ_CHOSEN, "apdu": {"reason": nom.RELEASE_REQUEST_REASON_NORMAL}})


def trace(profile: Profile, *, extended: bool = False, when: datetime | None = None) -> list[bytes]:
    """The agent's APDUs of one whole session (for example traces): AARQ, [config], MDS, two reports, RLRQ."""
    when = when or datetime(2026, 1, 15, 8, 30, 0)
    config_id = EXTENDED_CONFIG_ID if extended else profile.config_id
    out = [aarq(profile.system_id, config_id)]
    if extended:
        out.append(config_report(1, config_id, profile.config_id))
    out.append(mds_attributes(1, profile, config_id, when))
    for n, readings in enumerate(profile.readings):
        out.append(scan_report_fixed(2 + n, config_id, readings, when.replace(minute=when.minute + n), n,
                                     objects_of=profile.config_id))
    out.append(rlrq())
    return out
