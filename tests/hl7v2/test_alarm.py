"""IHE PCD-04 (ORU^R40) alerts from four vendors' shapes → canonical Alarm → FHIR Observation."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from interop import decode, to_fhir
from interop.model import MDC_SYSTEM

DATA = Path(__file__).resolve().parents[1] / "data" / "hl7v2"
ALERT_ATTRIBUTE_CODES = {"68164", "68165", "68166", "68167", "68168", "68480", "68481", "68482", "68483",
                         "68484", "68485", "68546"}


def _read(name: str):
    return decode((DATA / name).read_bytes())


def _resources(bundle, kind: str) -> list[dict]:
    return [r for r in bundle.resources if r["resourceType"] == kind]


def assert_unique_full_urls(bundle) -> None:
    """bdl-7: FullUrl must be unique in a bundle (or else entries with the same fullUrl must have
    different meta.versionId)."""
    urls = [e["fullUrl"] for e in bundle.data["entry"] if "fullUrl" in e]
    assert len(urls) == len(set(urls)), [u for u in urls if urls.count(u) > 1]


def test_ge_mural_advisory_update_with_legacy_codes():
    msg = _read("pcd04-ge-mural-advisory.hl7")
    assert msg.metrics == ()  # every OBX was an alert facet or the MDS row
    (alarm,) = msg.alarms
    assert alarm.code.codings[0].code == "0" and alarm.code.codings[0].display == "MDCX_EVT_ALERT_ADVISORY"
    assert alarm.text == "HYPERTENSION-Alert Recheck BP"
    assert (alarm.phase, alarm.state, alarm.inactivation) == ("update", "active", "enabled")
    assert (alarm.priority, alarm.kind) == ("medium", "advisory")
    assert [c.code for c in alarm.interpretation] == ["A"]
    assert alarm.source_device == "GE_Mural_DH_NM"
    assert alarm.identifier.value == "urn:uuid:56eb716f-ce7a-3b85-909c-a09d31fe324f"
    assert alarm.identifier.system == "urn:ietf:rfc:3986"
    assert alarm.parent == alarm.identifier.__class__(value=alarm.identifier.value, system="urn:ietf:rfc:3986",
                                                      type="alert-instance")
    assert alarm.start.raw == "20210120082326.275+0000"
    assert alarm.device_key == "1"
    assert [o.kind for o in msg.orders] == ["alarm"]
    # the PM/SA flags and facet sub-ids were answered by the alert reading: no finding left for them
    assert not [i for i in msg.issues if i.code in ("hl7v2.unknown-flag", "hl7v2.pcd-facet")]


def test_draeger_watchdog():
    msg = _read("pcd04-draeger-watchdog.hl7")
    (alarm,) = msg.alarms
    assert alarm.code.codings[0].code == "258047"  # MDC_EVT_ACTIVE: the heartbeat
    assert alarm.text == "Heartbeat-useless"
    assert (alarm.phase, alarm.state, alarm.inactivation, alarm.priority, alarm.kind) == \
        ("start", "active", "enabled", "none", "advisory")
    assert alarm.source_code.codings[0].code == "69837"
    # OBR-3 EI.1 is the alert id; the namespace's EUI-64 qualifies it, never replaces it (defect 3)
    assert alarm.identifier.value == "0"
    assert alarm.identifier.system == "urn:ieee:eui64:0030E60000000001"
    assert alarm.identifier.assigner == "urn:uuid:df041f5c-a3c9-11e9-8d8a-0050b612afeb"
    assert msg.gateway.identifiers[0].value == "0030E60000000001"
    assert msg.metrics == ()


def test_icu_medical_plum360_pump():
    msg = _read("pcd04-icumedical-plum360.hl7")
    (alarm,) = msg.alarms
    assert alarm.code.codings[0].display == "MDC_EVT_FLUID_LINE_OCCL"
    assert alarm.text == "Distal Occlusion"
    assert (alarm.phase, alarm.state, alarm.kind) == ("start", "active", "technical")
    assert alarm.priority is None and alarm.inactivation is None  # '20' is no PCD priority; empty state
    assert alarm.identifier.value == "50046"
    assert alarm.containment == (21766848, 1, 0, 0) and alarm.device_key == "21766848.1"
    finding = next(i for i in msg.issues if i.code == "hl7v2.alarm-priority")
    assert finding.location == "OBX[11]-5" and "'20'" in finding.message
    # the pump's own rows (software versions, power, maintenance) stay observations
    assert [m.observation_id for m in msg.metrics] == ["43455986.1.0.1", "21766848.1.0.3", "21766848.1.0.5"]


def test_bbraun_start_and_end_are_one_alert():
    start, end = _read("pcd04-bbraun-intellibridge-start.hl7"), _read("pcd04-bbraun-intellibridge-end.hl7")
    (a1,), (a2,) = start.alarms, end.alarms
    assert a1.code.codings[0].code == a2.code.codings[0].code == "196940"
    assert a1.source_code.codings[0].display == "MDC_DEV_PUMP_INFUS_MDS"
    assert (a1.phase, a1.state, a1.inactivation, a1.kind) == ("start", "active", "enabled", "technical")
    assert (a2.phase, a2.state) == ("end", "inactive")
    assert a1.identifier.value == "E0001_27" and a1.parent is None
    assert a2.identifier.value == "E0001_34" and a2.parent.value == "E0001_27"
    assert a2.parent.system == a1.identifier.system == "urn:ieee:eui64:0012211839000001"
    assert a1.start.raw == "20120109175417-0600" and a2.end.raw == "20120109175426-0600"
    for version in ("R4", "R5"):
        o1 = _resources(to_fhir(start, version), "Observation")
        o2 = _resources(to_fhir(end, version), "Observation")
        assert len(o1) == len(o2) == 1
        assert o1[0]["id"] == o2[0]["id"]  # the end replaces the start (PUT by id in a transaction)
        assert o1[0]["status"] == "preliminary" and o2[0]["status"] == "final"
        assert [i["value"] for i in o2[0]["identifier"]] == ["E0001_27", "E0001_34"]
        assert o2[0]["effectivePeriod"] == {"end": "2012-01-09T17:54:26-06:00"}


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("pcd04-*.hl7")))
@pytest.mark.parametrize("version", ["R4", "R5"])
def test_no_observation_or_device_metric_for_alert_attributes(name, version):
    msg = _read(name)
    assert len(msg.alarms) == 1
    for m in msg.metrics:
        assert m.code.code_in(MDC_SYSTEM) not in ALERT_ATTRIBUTE_CODES
    bundle = to_fhir(msg, version, bundle_type="transaction")
    for dm in _resources(bundle, "DeviceMetric"):  # the pump's own metrics have theirs; no alert attribute
        assert dm["type"]["coding"][0]["code"] not in ALERT_ATTRIBUTE_CODES
    assert not [o for o in _resources(bundle, "Observation")
                if o["code"].get("coding", [{}])[0].get("code") in ALERT_ATTRIBUTE_CODES]
    alarms = [o for o in _resources(bundle, "Observation")
              if o.get("category", [{}])[0].get("coding", [{}])[0].get("code") == "196616"]
    assert len(alarms) == 1
    assert alarms[0]["identifier"][0]["type"] == {"text": "alert instance"}
    entry = next(e for e in bundle.data["entry"] if e["resource"] is alarms[0] or e["resource"] == alarms[0])
    assert entry["request"] == {"method": "PUT", "url": f"Observation/{alarms[0]['id']}"}
    assert_unique_full_urls(bundle)
    bundle.to_model()  # validates with fhir.resources


PHYSIOLOGICAL = (
    "MSH|^~\\&|AR^0123456789ABCDEF^EUI-64|ICU|AM|ICU|20240102030405+0100||ORU^R40^ORU_R40|A1|P|2.6|||AL|NE\r"
    "PID|||12345^^^H^MR\r"
    "OBR|1||ALM-17^AR^0123456789ABCDEF^EUI-64|196616^MDC_EVT_ALARM^MDC|||20240102030400+0100\r"
    "OBX|1|ST|196652^MDC_EVT_LO^MDC|1.2.1.150456.1|SpO2 LOW|||L~PH~SP|||F\r"
    "OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.2.1.150456.2|85|262688^MDC_DIM_PERCENT^MDC|90-100||||F\r"
    "OBX|3|ST|68481^MDC_ATTR_EVENT_PHASE^MDC|1.2.1.150456.3|start||||||F\r"
    "OBX|4|ST|68482^MDC_ATTR_ALARM_STATE^MDC|1.2.1.150456.4|active||||||F\r"
    "OBX|5|ST|68483^MDC_ATTR_ALARM_INACTIVATION_STATE^MDC|1.2.1.150456.5|audio-paused||||||F\r"
)


def test_physiological_alarm_with_source_metric_and_limits():
    """The IHE PCD TF-2 shape: facet 2 is the metric that crossed its limits, with value and OBX-7."""
    msg = decode(PHYSIOLOGICAL.encode())
    (alarm,) = msg.alarms
    assert alarm.code.codings[0].code == "196652" and alarm.text == "SpO2 LOW"
    assert (alarm.priority, alarm.kind, alarm.inactivation) == ("high", "physiological", "audio-paused")
    assert [c.code for c in alarm.interpretation] == ["L"]
    assert alarm.source_code.codings[0].code == "150456"
    assert alarm.source_value.value == Decimal("85") and alarm.source_value.unit == "%"
    assert (alarm.limits.low.value, alarm.limits.high.value) == (Decimal("90"), Decimal("100"))
    assert msg.metrics == ()
    obs = _resources(to_fhir(msg, "R4"), "Observation")[0]
    comp = next(c for c in obs["component"] if c["code"]["coding"][0]["code"] == "150456")
    assert comp["valueQuantity"]["value"] == 85
    assert comp["referenceRange"][0]["low"]["value"] == 90
    assert comp["referenceRange"][0]["type"]["coding"][0]["code"] == "alarm-limits"
    assert obs["interpretation"][0]["coding"][0]["code"] == "L"
    assert {c["code"]["coding"][0]["code"]: c.get("valueString") for c in obs["component"]} == {
        "68481": "start", "68482": "active", "68483": "audio-paused", "68484": "high", "68485": "physiological",
        "150456": None}


def test_facets_outside_an_alert_stay_metrics():
    """A 5-part sub-id in a PCD-01 message without alert attributes is a facet of a metric, not an alert."""
    text = ("MSH|^~\\&|GW|F|R|F|20240102030405+0100||ORU^R01^ORU_R01|A2|P|2.6\r"
            "OBR|1||X|69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|||20240102030400+0100\r"
            "OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.2.1.150456|97|%^%^UCUM|||||F\r"
            "OBX|2|NM|68220^MDC_ATTR_TIME_PD_SAMP^MDC|1.2.1.150456.1|8|ms^ms^UCUM|||||F\r")
    msg = decode(text.encode())
    assert msg.alarms == ()
    assert len(msg.metrics) == 2


def test_explain_lineage_of_an_alert():
    from interop.lineage import lineage

    msg = _read("pcd04-bbraun-intellibridge-end.hl7")
    bundle = to_fhir(msg, "R4")
    links = {(link.source, link.element) for link in lineage(msg, bundle.resources)}
    assert ("OBR[1]-3", "identifier") in links and ("OBR[1]-29", "identifier") in links
    assert ("OBX facets 1.0.0.0.n of OBR[1] (.1 event)", "code") in links
    assert ("OBX facets 1.0.0.0.n of OBR[1] (.2 source, .3+ attributes)", "component") in links
