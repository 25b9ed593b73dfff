"""ImagingStudy / DiagnosticReport mapping, R4 and R5, validated with fhir.resources.

Vector: the FHIR ImagingStudy example "example" (R4 4.0.1 and R5 5.0.0 spec,
imagingstudy-example.json): study 2.16.124.113543.6003.1154777499.30246.19789.3503430045, one CT
series number 3 "CT Surview 180" on SNOMED 67734004 "Upper Trunk Structure", one CT Image Storage
instance, started 2011-01-01T11:01:20+03:00.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fhir.resources.diagnosticreport import DiagnosticReport as DiagnosticReportR5
from fhir.resources.endpoint import Endpoint as EndpointR5
from fhir.resources.imagingstudy import ImagingStudy as ImagingStudyR5
from fhir.resources.procedure import Procedure as ProcedureR5
from fhir.resources.R4B.diagnosticreport import DiagnosticReport as DiagnosticReportR4
from fhir.resources.R4B.endpoint import Endpoint as EndpointR4
from fhir.resources.R4B.imagingstudy import ImagingStudy as ImagingStudyR4
from fhir.resources.R4B.procedure import Procedure as ProcedureR4
from interop.mappings.fhir import imaging
from interop.mappings.fhir.context import FhirContext

from interop.model import (
    DCM_SYSTEM,
    SNOMED_SYSTEM,
    CodeableConcept,
    Coding,
    Identifier,
    ImagingStudy,
    Instance,
    Message,
    Metric,
    ProcedureStep,
    Report,
    Series,
    Timestamp,
)

STUDY_UID = "2.16.124.113543.6003.1154777499.30246.19789.3503430045"
SERIES_UID = "2.16.124.113543.6003.2588828330.45298.17418.2723805630"
INSTANCE_UID = "2.16.124.113543.6003.189642796.63084.16748.2599092903"
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"  # PS3.4 Annex B
COMPREHENSIVE_SR = "1.2.840.10008.5.1.4.1.1.88.33"  # PS3.4 Annex B
STARTED = Timestamp(value=datetime(2011, 1, 1, 11, 1, 20, tzinfo=timezone(timedelta(hours=3))), precision="second")
UPPER_TRUNK = CodeableConcept(codings=(Coding(system=SNOMED_SYSTEM, code="67734004", display="Upper Trunk Structure"),))

VALIDATORS = {
    "R4": {"ImagingStudy": ImagingStudyR4, "DiagnosticReport": DiagnosticReportR4, "Endpoint": EndpointR4,
           "Procedure": ProcedureR4},
    "R5": {"ImagingStudy": ImagingStudyR5, "DiagnosticReport": DiagnosticReportR5, "Endpoint": EndpointR5,
           "Procedure": ProcedureR5},
}


def spec_example_message(**update: Any) -> Message:
    """The FHIR spec example as a canonical Message."""
    study = ImagingStudy(
        uid=STUDY_UID, started=STARTED,
        series=(Series(uid=SERIES_UID, modality="CT", number=3, description="CT Surview 180", body_site=UPPER_TRUNK,
                       instances=(Instance(sop_instance_uid=INSTANCE_UID, sop_class_uid=CT_IMAGE_STORAGE, number=1),)),),
    )
    return Message(standard="dicom", imaging_study=study, **update)


def run(message: Message, version: str, **options: Any) -> tuple[FhirContext, dict[str, list[dict[str, Any]]]]:
    """Build into a fresh context with a patient ref; validate every resource; group them by type."""
    ctx = FhirContext(version=version, message=message, options=options)  # type: ignore[arg-type]
    ctx.patient_ref = "Patient/dicom"
    imaging.build(message, ctx)
    by_type: dict[str, list[dict[str, Any]]] = {}
    for entry in ctx.entries:
        res = entry["resource"]
        VALIDATORS[version][res["resourceType"]].model_validate(res)
        by_type.setdefault(res["resourceType"], []).append(res)
    return ctx, by_type


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_spec_example(version: str) -> None:
    ctx, out = run(spec_example_message(), version)
    (study,) = out["ImagingStudy"]
    assert study["identifier"] == [{"use": "official", "system": "urn:dicom:uid", "value": f"urn:oid:{STUDY_UID}"}]
    assert study["status"] == "available"
    assert study["started"] == "2011-01-01T11:01:20+03:00"
    assert study["subject"] == ctx.reference("Patient/dicom")
    assert (study["numberOfSeries"], study["numberOfInstances"]) == (1, 1)
    (series,) = study["series"]
    ct = {"system": DCM_SYSTEM, "code": "CT", "display": "Computed Tomography"}
    snomed = {"system": SNOMED_SYSTEM, "code": "67734004", "display": "Upper Trunk Structure"}
    if version == "R4":
        assert study["modality"] == [ct]
        assert series["modality"] == ct
        assert series["bodySite"] == snomed
    else:
        assert study["modality"] == [{"coding": [ct]}]
        assert series["modality"] == {"coding": [ct]}
        assert series["bodySite"] == {"concept": {"coding": [snomed]}}
    assert (series["uid"], series["number"], series["description"], series["numberOfInstances"]) == (
        SERIES_UID, 3, "CT Surview 180", 1)
    assert series["instance"] == [{"uid": INSTANCE_UID, "number": 1,
                                   "sopClass": {"system": "urn:ietf:rfc:3986", "code": f"urn:oid:{CT_IMAGE_STORAGE}"}}]
    assert ctx.issues == []


def test_deterministic_and_conditional_create() -> None:
    a = run(spec_example_message(), "R4")[0].entries
    b = run(spec_example_message(), "R4")[0].entries
    assert a == b
    ctx = FhirContext(version="R4", message=spec_example_message(), bundle_type="transaction")
    ctx.patient_ref = "Patient/dicom"
    imaging.build(ctx.message, ctx)
    assert ctx.entries[0]["request"] == {"method": "POST", "url": "ImagingStudy",
                                        "ifNoneExist": f"identifier=urn:dicom:uid|urn:oid:{STUDY_UID}"}


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_instances_aggregate_into_one_study(version: str) -> None:
    # the same series described by several instances (as an unmerged study would arrive), plus an SR series
    inst = [Instance(sop_instance_uid=f"{SERIES_UID}.{n}", sop_class_uid=CT_IMAGE_STORAGE, number=n) for n in (3, 1, 2)]
    parts = tuple(Series(uid=SERIES_UID, modality="CT", number=3, instances=(i,)) for i in inst)
    dup = Series(uid=SERIES_UID, modality="CT", number=3, instances=(inst[0],))
    sr = Series(uid=f"{STUDY_UID}.99", modality="SR", number=99,
                instances=(Instance(sop_instance_uid=f"{STUDY_UID}.99.1", sop_class_uid=COMPREHENSIVE_SR, number=1,
                                    title="Imaging Measurement Report"),))
    message = Message(standard="dicom", imaging_study=ImagingStudy(uid=STUDY_UID, series=(sr,) + parts + (dup,)))
    _, out = run(message, version)
    (study,) = out["ImagingStudy"]
    assert (study["numberOfSeries"], study["numberOfInstances"]) == (2, 4)
    assert [s["uid"] for s in study["series"]] == [SERIES_UID, f"{STUDY_UID}.99"]
    assert [i["number"] for i in study["series"][0]["instance"]] == [1, 2, 3]
    assert study["series"][1]["instance"][0]["title"] == "Imaging Measurement Report"
    codes = [m["code"] if version == "R4" else m["coding"][0]["code"] for m in study["modality"]]
    assert codes == ["CT", "SR"]


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_procedure_reason_identifiers_laterality_performer(version: str) -> None:
    proc = CodeableConcept(codings=(Coding(system="http://loinc.org", code="24627-2", display="CT Chest"),))
    study = ImagingStudy(
        uid=STUDY_UID, identifiers=(Identifier(value="W12345", type="ACSN"), Identifier(value="1CT1", type="STUDYID")), description="CT chest",
        procedure_codes=(proc,), reason="follow-up", referrer="Referring^Doctor",
        series=(Series(uid=SERIES_UID, modality="CT", device_key="1", performer="Tech^A",
                       laterality=CodeableConcept(codings=(Coding(system=DCM_SYSTEM, code="R"),), text="R")),),
    )
    message = Message(standard="dicom", imaging_study=study)
    ctx = FhirContext(version=version, message=message)  # type: ignore[arg-type]
    ctx.patient_ref, ctx.device_refs["1"] = "Patient/p", "Device/d"
    imaging.build(message, ctx)
    res = ctx.entries[0]["resource"]
    VALIDATORS[version]["ImagingStudy"].model_validate(res)
    assert res["identifier"][1] == {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                                         "code": "ACSN", "display": "Accession ID"}]},
                                 "value": "W12345"}
    assert res["identifier"][2] == {"type": {"text": "Study ID"}, "value": "1CT1"}
    assert res["status"] == "registered"  # no instance arrived
    proc_json = {"coding": [{"system": "http://loinc.org", "code": "24627-2", "display": "CT Chest"}]}
    series = res["series"][0]
    if version == "R4":
        assert res["procedureCode"] == [proc_json] and res["reasonCode"] == [{"text": "follow-up"}]
        assert "procedure" not in res and "reason" not in res
        assert series["laterality"] == {"system": DCM_SYSTEM, "code": "R"}
    else:
        assert res["procedure"] == [{"concept": proc_json}] and res["reason"] == [{"concept": {"text": "follow-up"}}]
        assert "procedureCode" not in res and "reasonCode" not in res
        assert series["laterality"] == {"coding": [{"system": DCM_SYSTEM, "code": "R"}], "text": "R"}
    assert series["performer"] == [{"actor": ctx.reference("Device/d")}, {"actor": {"display": "Tech^A"}}]
    assert res["referrer"] == {"display": "Referring^Doctor"}


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_diagnostic_report_for_sr(version: str) -> None:
    title = CodeableConcept(codings=(Coding(system=DCM_SYSTEM, code="126000", display="Imaging Measurement Report"),))
    issued = Timestamp(value=datetime(2011, 1, 1, 12, 0, 0, tzinfo=UTC), precision="second")
    report = Report(title=title, template="1500", completion="COMPLETE", verification="VERIFIED", issued=issued,
                    instance_uid=f"{STUDY_UID}.99.1", study_uid=STUDY_UID)
    metric = Metric(code=CodeableConcept(codings=(Coding(system=SNOMED_SYSTEM, code="410668003", display="Length"),)),
                    group=f"{STUDY_UID}.99.1")
    message = spec_example_message(reports=(report,), metrics=(metric,))
    ctx = FhirContext(version=version, message=message)  # type: ignore[arg-type]
    ctx.patient_ref = "Patient/dicom"
    ctx.observation_refs.append("Observation/o1")
    imaging.build(message, ctx)
    study, dr = (e["resource"] for e in ctx.entries)
    VALIDATORS[version]["DiagnosticReport"].model_validate(dr)
    assert dr["status"] == "final"
    assert dr["code"] == {"coding": [{"system": DCM_SYSTEM, "code": "126000", "display": "Imaging Measurement Report"}]}
    assert dr["identifier"] == [{"use": "official", "system": "urn:dicom:uid", "value": f"urn:oid:{STUDY_UID}.99.1"}]
    assert dr["issued"] == "2011-01-01T12:00:00Z"
    assert dr["effectiveDateTime"] == "2011-01-01T11:01:20+03:00"
    assert dr["result"] == [ctx.reference("Observation/o1")]
    study_link = [ctx.reference(f"ImagingStudy/{study['id']}")]
    assert dr["imagingStudy" if version == "R4" else "study"] == study_link
    assert ("study" if version == "R4" else "imagingStudy") not in dr


def test_report_status_flags() -> None:
    title = CodeableConcept(text="report")
    assert imaging._report_status(Report(title=title, completion="PARTIAL")) == "partial"
    assert imaging._report_status(Report(title=title, completion="COMPLETE", verification="UNVERIFIED")) == "preliminary"
    assert imaging._report_status(Report(title=title, completion="COMPLETE", verification="VERIFIED")) == "final"


def test_several_reports_attribute_results_by_group() -> None:
    title = CodeableConcept(text="report")
    reports = (Report(title=title, instance_uid="1.2.3.1"), Report(title=title, instance_uid="1.2.3.2"))
    code = CodeableConcept(text="m")
    metrics = (Metric(code=code, group="1.2.3.2/1"), Metric(code=code, group="1.2.3.1/1"))
    message = Message(standard="dicom", reports=reports, metrics=metrics)
    ctx = FhirContext(version="R5", message=message)
    ctx.patient_ref = "Patient/p"
    ctx.observation_refs.extend(["Observation/a", "Observation/b"])
    imaging.build(message, ctx)
    first, second = (e["resource"] for e in ctx.entries)
    assert first["result"] == [ctx.reference("Observation/b")]
    assert second["result"] == [ctx.reference("Observation/a")]


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_endpoint_option(version: str) -> None:
    ctx, out = run(spec_example_message(), version, imaging_endpoint="https://pacs.example.org/dicom-web")
    (endpoint,) = out["Endpoint"]
    assert endpoint["address"] == "https://pacs.example.org/dicom-web"
    conn = {"system": "http://terminology.hl7.org/CodeSystem/endpoint-connection-type", "code": "dicom-wado-rs",
            "display": "DICOM WADO-RS"}
    assert endpoint["connectionType"] == (conn if version == "R4" else [{"coding": [conn]}])
    assert out["ImagingStudy"][0]["endpoint"] == [ctx.reference(f"Endpoint/{endpoint['id']}")]


def test_time_without_zone_and_precision() -> None:
    naive = Timestamp(value=datetime(2011, 1, 1, 11, 1, 20), precision="second")
    study = ImagingStudy(uid=STUDY_UID, started=naive)
    message = Message(standard="dicom", imaging_study=study)
    ctx, out = run(message, "R4")
    assert out["ImagingStudy"][0]["started"] == "2011-01-01T11:01:20Z"  # UTC assumed, as for Observations
    assert [i.code for i in ctx.issues] == ["fhir.zone-assumed"]
    ctx, out = run(message, "R5", timezone=timezone(timedelta(hours=1)))
    assert out["ImagingStudy"][0]["started"] == "2011-01-01T11:01:20+01:00"
    month = Timestamp(value=datetime(2011, 3, 1), precision="month")
    ctx, out = run(Message(standard="dicom", imaging_study=ImagingStudy(uid=STUDY_UID, started=month)), "R4")
    assert out["ImagingStudy"][0]["started"] == "2011-03"


def test_no_patient_is_noted() -> None:
    message = spec_example_message()
    ctx = FhirContext(version="R4", message=message)
    imaging.build(message, ctx)
    res = ctx.entries[0]["resource"]
    ImagingStudyR4.model_validate(res)
    assert res["subject"] == {"display": "unknown patient"}
    assert [i.code for i in ctx.issues] == ["fhir.no-subject"]


def test_sr_study_with_two_reports_through_the_codec(tmp_path) -> None:
    """test-SR.dcm (pydicom test data, Comprehensive SR with 2 NUM items) twice in one study: each
    DiagnosticReport gets its own two Observations; the ImagingStudy lists both SR instances."""
    from interop.codecs.dicom.study import merge_messages
    from pydicom import dcmread
    from pydicom.data import get_testdata_file

    from interop import decode, to_fhir

    messages = []
    for n in (1, 2):
        ds = dcmread(get_testdata_file("test-SR.dcm"))
        if n == 2:
            ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID + ".2"
        path = tmp_path / f"sr{n}.dcm"
        ds.save_as(path, enforce_file_format=True)
        messages.append(decode(path.read_bytes(), "dicom"))
    merged = merge_messages(messages)
    for version, model in (("R4", DiagnosticReportR4), ("R5", DiagnosticReportR5)):
        bundle = to_fhir(merged, version, bundle_type="collection")  # type: ignore[arg-type]
        by_type: dict[str, list[dict[str, Any]]] = {}
        for res in bundle.resources:
            by_type.setdefault(res["resourceType"], []).append(res)
        (study,) = by_type["ImagingStudy"]
        assert study["identifier"][0]["value"] == "urn:oid:1.2.276.0.7230010.3.1.4.2139363186.7819.982086466.2"
        assert study["numberOfInstances"] == 2
        reports = by_type["DiagnosticReport"]
        assert [r["identifier"][0]["value"] for r in reports] == [
            "urn:oid:1.2.276.0.7230010.3.1.4.2139363186.7819.982086466.4",
            "urn:oid:1.2.276.0.7230010.3.1.4.2139363186.7819.982086466.4.2"]
        observations = [{"reference": e["fullUrl"]} for e in bundle.data["entry"]
                        if e["resource"]["resourceType"] == "Observation"]
        assert len(observations) == 4
        assert reports[0]["result"] == observations[:2] and reports[1]["result"] == observations[2:]
        for r in reports:
            model.model_validate(r)


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_mpps_steps_become_procedures(version: str) -> None:
    # PS3.4 F.7: a step COMPLETED for the study, with start and end (times with offset +03:00)
    end = Timestamp(value=datetime(2011, 1, 1, 11, 30, 0, tzinfo=timezone(timedelta(hours=3))), precision="second")
    step = ProcedureStep(uid="1.2.826.0.1.3680043.2.1125.1.1", status="COMPLETED", step_id="PPS1",
                         description="CT chest", modality="CT", started=STARTED, ended=end, study_uids=(STUDY_UID,))
    ctx, out = run(spec_example_message(procedure_steps=(step,)), version)
    (proc,) = out["Procedure"]
    assert proc["status"] == "completed"
    assert proc["identifier"] == [{"use": "official", "system": "urn:dicom:uid",
                                   "value": "urn:oid:1.2.826.0.1.3680043.2.1125.1.1"}]
    assert proc["code"] == {"text": "CT chest"}
    period = {"start": "2011-01-01T11:01:20+03:00", "end": "2011-01-01T11:30:00+03:00"}
    study = out["ImagingStudy"][0]
    link = ctx.reference(f"Procedure/{proc['id']}")
    if version == "R4":
        assert proc["performedPeriod"] == period and study["procedureReference"] == link
    else:
        assert proc["occurrencePeriod"] == period and study["partOf"] == [link]


def test_discontinued_step_without_instances_cancels_study() -> None:
    step = ProcedureStep(uid="1.2.3.9", status="DISCONTINUED", study_uids=(STUDY_UID,))
    _, out = run(Message(standard="dicom", imaging_study=ImagingStudy(uid=STUDY_UID), procedure_steps=(step,)), "R5")
    assert out["ImagingStudy"][0]["status"] == "cancelled"
    assert out["Procedure"][0]["status"] == "stopped"


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_mpps_in_a_transaction_updates_the_procedure(version: str) -> None:
    # the step as the MPPS SCP holds it (N-CREATE merged with N-SET): a conditional update on the MPPS UID,
    # so a server that has the IN PROGRESS Procedure gets it COMPLETED (a conditional create would be ignored)
    from interop import to_fhir

    uid = "1.2.826.0.1.3680043.2.1125.1.1"
    step = ProcedureStep(uid=uid, status="COMPLETED", step_id="PPS1", description="CT chest", started=STARTED,
                         study_uids=(STUDY_UID,))
    bundle = json.loads(to_fhir(spec_example_message(procedure_steps=(step,)), version,
                                bundle_type="transaction").json())
    (entry,) = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Procedure"]
    assert entry["request"] == {"method": "PUT", "url": f"Procedure?identifier=urn:dicom:uid|urn:oid:{uid}"}
    assert "id" not in entry["resource"] and entry["resource"]["status"] == "completed"


def test_lone_mpps_n_set_is_a_fhirpath_patch() -> None:
    # a lone N-SET dataset (no patient, no code): a FHIRPath Patch of the Procedure the N-CREATE made
    import importlib.util
    from pathlib import Path

    from interop import decode, to_fhir

    spec = importlib.util.spec_from_file_location(
        "dicom_make_examples", Path(__file__).resolve().parents[2] / "examples" / "dicom" / "make_examples.py")
    builders = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builders)

    done = decode(builders.to_bytes(builders.mpps_file(builders.mpps_n_set("DISCONTINUED"))))
    bundle = json.loads(to_fhir(done, "R4", bundle_type="transaction").json())
    (entry,) = [e for e in bundle["entry"] if e["request"]["method"] == "PATCH"]
    assert entry["request"]["url"] == f"Procedure?identifier=urn:dicom:uid|urn:oid:{builders.MPPS_UID}"
    params = entry["resource"]
    assert params["resourceType"] == "Parameters"
    first = params["parameter"][0]["part"]
    assert first == [{"name": "type", "valueCode": "replace"}, {"name": "path", "valueString": "Procedure.status"},
                     {"name": "value", "valueCode": "stopped"}]
