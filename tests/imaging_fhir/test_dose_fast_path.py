"""A dose SR's per-NUM Observations are not made when the dose Observations replace them (observation.build asks
mappings.fhir.dose.replaces_observations): the Bundle and every note must equal those of the path that makes
them and drops them afterwards, including the notes those Observations made (a time without UTC offset, a code
with whitespace FHIR's code type forbids)."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pydicom
import pytest
from interop.codecs.dicom.codec import DicomCodec
from interop.mappings.fhir import dose

from interop.registry import get_mapping

ROOT = Path(__file__).resolve().parents[2]
DOSE_SR = ROOT / "examples" / "dicom" / "sr_ct_radiation_dose.dcm"
CODEC = DicomCodec()


def _variant(kind: str) -> bytes:
    data = DOSE_SR.read_bytes()
    if kind == "as-written":
        return data
    ds = pydicom.dcmread(io.BytesIO(data))
    if kind == "no-utc-offset":
        assert "TimezoneOffsetFromUTC" in ds
        del ds.TimezoneOffsetFromUTC
    elif kind == "code-with-whitespace":
        accumulated = ds.ContentSequence[2]  # CT Accumulated Dose Data > DLP total
        accumulated.ContentSequence[1].ConceptNameCodeSequence[0].CodeValue = "1138  13"
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def _bundle(message, version: str, **options) -> tuple[dict, list]:
    bundle = get_mapping(version).map(message, **options)
    data = orjson.loads(bundle.json())
    for entry in data["entry"]:
        if entry["resource"]["resourceType"] == "Provenance":
            entry["resource"].pop("recorded")
    return data, [(i.severity, i.code, i.location, i.message) for i in bundle.issues]


@pytest.mark.parametrize("kind", ["as-written", "no-utc-offset", "code-with-whitespace"])
@pytest.mark.parametrize(("version", "options"), [("fhir-r4", {}), ("fhir-r5", {"bundle_type": "transaction"}),
                                                  ("fhir-r4", {"assume_tz": "+01:00"})])
def test_dose_bundle_equals_the_make_and_drop_path(kind, version, options, monkeypatch):
    message = CODEC.decode(_variant(kind))
    assert dose.replaces_observations(message)
    fast = _bundle(message, version, **dict(options))
    monkeypatch.setattr(dose, "replaces_observations", lambda message: False)
    slow = _bundle(message, version, **dict(options))
    assert fast == slow
    data, notes = fast
    kinds = [e["resource"]["resourceType"] for e in data["entry"]]
    assert kinds.count("Observation") == 3  # the summary and two irradiation events, no per-NUM Observation
    codes = {n[1] for n in notes}
    if kind == "no-utc-offset" and "assume_tz" not in options:
        assert "fhir.zone-assumed" in codes
        assert any(n[1] == "fhir.zone-assumed" and n[2].endswith("(0040,A30A)") for n in notes)
    if kind == "code-with-whitespace":
        assert "fhir.code-whitespace" in codes


def test_not_replaced_when_another_report_or_value_kind_is_there():
    message = CODEC.decode(DOSE_SR.read_bytes())
    from interop.model import StringValue, replace

    assert not dose.replaces_observations(replace(message, reports=message.reports * 2))
    odd = replace(message.metrics[0], value=StringValue(text="n/a"))
    assert not dose.replaces_observations(replace(message, metrics=(odd, *message.metrics[1:])))
