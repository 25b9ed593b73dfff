"""X-Ray Radiation Dose SR → the HL7 Radiation Dose Summary IG's own example instances, element by element.

The SR is built to say what the IG examples say (study 1.2.840.121.3.32.0.1.1323423, SR 1.323423.122, CT,
DLP total 203.12 mGy.cm; one irradiation event 1.2.840.121.3.32.0.1.1323423.1 on the abdominal aorta,
Mean CTDIvol 1.25 mGy, DLP 157.07 mGy.cm, IEC Body Dosimetry Phantom). Deviations that remain (README):
references are this Bundle's entries (urn:uuid) instead of the example's server ids; `performer`
(irradiation authorizing person) and the device display are absent because the SR has neither; the
event Observation claims no profile (STU1 removed CTIrradiationEventSummary) and carries every item of
the event as a component (the ballot lists three).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from interop import decode, to_fhir

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "ig"
STUDY, SR, EVENT = "1.2.840.121.3.32.0.1.1323423", "1.2.840.121.3.32.0.1.1323423.122", "1.2.840.121.3.32.0.1.1323423.1"


def _builders():
    spec = importlib.util.spec_from_file_location("dicom_make_examples", ROOT / "examples" / "dicom" / "make_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _ig_dose_sr() -> bytes:
    from pydicom.sequence import Sequence

    b = _builders()
    ds = b.ct_dose_report()
    ds.StudyInstanceUID, ds.SOPInstanceUID = STUDY, SR
    ds.file_meta.MediaStorageSOPInstanceUID = SR
    code, num, item, container = b.code, b.num, b._item, b.container
    ds.ContentSequence = Sequence([
        item("HAS CONCEPT MOD", "CODE", code("121058", "DCM", "Procedure reported"),
             ConceptCodeSequence=Sequence([code("77477000", "SCT", "Computerized tomography")])),
        container("CONTAINS", code("113811", "DCM", "CT Accumulated Dose Data"), [
            num(code("113813", "DCM", "CT Dose Length Product Total"), "203.12", "mGy.cm", "mGy.cm")]),
        container("CONTAINS", code("113819", "DCM", "CT Acquisition"), [
            item("CONTAINS", "CODE", code("123014", "DCM", "Target Region"),
                 ConceptCodeSequence=Sequence([code("7832008", "SCT", "Abdominal aorta")])),
            item("CONTAINS", "UIDREF", code("113769", "DCM", "Irradiation Event UID"), UID=EVENT),
            container("CONTAINS", code("113829", "DCM", "CT Dose"), [
                num(code("113830", "DCM", "Mean CTDIvol"), "1.25", "mGy", "mGy"),
                num(code("113838", "DCM", "DLP"), "157.07", "mGy.cm", "mGy.cm"),
                item("CONTAINS", "CODE", code("113835", "DCM", "CTDIw Phantom Type"),
                     ConceptCodeSequence=Sequence([code("113691", "DCM", "IEC Body Dosimetry Phantom")])),
            ]),
        ]),
    ])
    return b.to_bytes(ds)


@pytest.fixture(scope="module")
def bundle() -> dict:
    return json.loads(to_fhir(decode(_ig_dose_sr()), "R4", bundle_type="transaction").json())


def _observation(bundle: dict, code: str) -> dict:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"
                and e["resource"]["code"]["coding"][0]["code"] == code)


def _codes(components: list[dict]) -> list[tuple[str, str]]:
    return [(c["code"]["coding"][0]["system"], c["code"]["coding"][0]["code"]) for c in components]


def test_summary_matches_ig_example_139(bundle: dict) -> None:
    ig = json.loads((GOLDEN / "rds-observation-139.json").read_text())
    ours = _observation(bundle, "73569-6")
    for element in ("meta", "identifier", "status", "code", "valueString"):
        assert ours[element] == ig[element], element
    assert ours["partOf"][0]["identifier"] == ig["partOf"][0]["identifier"]
    study_url = next(e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ImagingStudy")
    assert ours["partOf"][0]["reference"] == ours["focus"][0]["reference"] == study_url
    assert _codes(ours["component"]) == _codes(ig["component"])
    assert ours["component"][0]["valueCodeableConcept"] == ig["component"][0]["valueCodeableConcept"]
    q, ig_q = ours["component"][1]["valueQuantity"], ig["component"][1]["valueQuantity"]
    assert (q["value"], q["unit"]) == (ig_q["value"], ig_q["unit"])
    assert "subject" in ours and "device" in ours  # the Patient and the modality of this Bundle


def test_irradiation_event_matches_ig_example_839(bundle: dict) -> None:
    ig = json.loads((GOLDEN / "rds-irradiation-event-839.json").read_text())
    ours = _observation(bundle, "113852")
    assert ours["code"] == ig["code"] and ours["status"] == ig["status"]
    assert (ours["identifier"][0]["system"], ours["identifier"][0]["value"]) == \
        (ig["identifier"][0]["system"], ig["identifier"][0]["value"])
    assert ours["bodySite"] == ig["bodySite"]
    assert _codes(ours["component"]) == _codes(ig["component"])
    for mine, theirs in zip(ours["component"], ig["component"], strict=True):
        if "valueQuantity" in theirs:
            assert (mine["valueQuantity"]["value"], mine["valueQuantity"]["unit"]) == \
                (theirs["valueQuantity"]["value"], theirs["valueQuantity"]["unit"])
        else:
            assert mine["valueCodeableConcept"] == theirs["valueCodeableConcept"]


def test_dose_report_results_replace_per_num_observations(bundle: dict) -> None:
    observations = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"]
    assert sorted(o["code"]["coding"][0]["code"] for o in observations) == ["113852", "73569-6"]
    report = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DiagnosticReport")
    urls = {e["resource"]["id"]: e["fullUrl"] for e in bundle["entry"]}
    assert [r["reference"] for r in report["result"]] == [urls[o["id"]] for o in
                                                          sorted(observations, key=lambda o: o["code"]["coding"][0]["code"] != "73569-6")]


def test_multi_valued_num_keeps_every_value() -> None:
    # RF/XA dose reports put one value per pulse in one NUM (Numeric Value VM > 1): all are kept and reported
    from pydicom.sequence import Sequence

    b = _builders()
    ds = b.ct_dose_report()
    kvp = b.num(b.code("113733", "DCM", "KVP"), "80", "kV", "kV")
    kvp.MeasuredValueSequence[0].NumericValue = ["80", "81.5", "82"]
    ds.ContentSequence[3].ContentSequence.append(kvp)
    ds.ContentSequence = Sequence(list(ds.ContentSequence))
    message = decode(b.to_bytes(ds))
    (finding,) = [i for i in message.issues if i.code == "dicom.sr-multivalue"]
    assert "3 values" in finding.message
    bundle = json.loads(to_fhir(message, "R4").json())
    event = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"
                 and e["resource"]["code"]["coding"][0]["code"] == "113852")
    (comp,) = [c for c in event["component"] if c["code"]["coding"][0]["code"] == "113733"]
    assert comp == {"code": comp["code"], "valueString": "80 81.5 82 kV"}
