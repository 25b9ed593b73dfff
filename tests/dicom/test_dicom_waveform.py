"""Waveform IODs → sample-array metrics (one per channel)."""

from __future__ import annotations

from decimal import Decimal

from dicom_fixtures import builders, decode, packaged

from interop.model import MDC_SYSTEM


def test_packaged_12_lead_ecg():
    # pydicom test file waveform_ecg.dcm (Mortara el250): 12 ch × 10000 samples @ 1000 Hz and 12 ch × 1200
    m = decode(packaged("waveform_ecg.dcm"))
    assert m.message_type == "12-lead ECG Waveform Storage"
    waves = [x for x in m.metrics if x.value.kind == "sample-array"]
    assert len(waves) == 24
    assert [len(w.value.samples) for w in waves] == [10000] * 12 + [1200] * 12
    first = waves[0]
    assert first.value.period_ms == Decimal(1)
    assert first.value.factor == Decimal("1.25")  # ChannelSensitivity 1.25 × correction 1
    assert (first.value.origin.value, first.value.origin.unit) == (Decimal(0), "uV")
    assert first.value.samples[:5] == tuple(Decimal(v) for v in (80, 65, 50, 35, 37))
    # SCPECG Lead I (Einthoven) as sent, after the MDC lead potential both codecs write (SCP-ECG lead numbers
    # are the 10101 lead numbers)
    assert [(c.system, c.code) for c in first.code.codings] == [(MDC_SYSTEM, "131329"),
                                                                ("urn:dicom:coding-scheme:SCPECG", "5.6.3-9-1")]
    assert (first.group, waves[12].group) == ("RHYTHM", "MEDIAN BEAT")
    assert first.source.location == "(5400,0100)[0].(003A,0200)[0]"
    # numeric annotations: RR interval 982 ms
    rr = next(x for x in m.metrics if x.code.codings[0].code == "5.10.2.1-3")
    assert (rr.value.quantity.value, rr.value.quantity.unit) == (Decimal(982), "ms")
    assert [i.code for i in m.issues] == ["dicom.annotation-not-mapped"]  # 66 fiducial marks (P onset ...)
    # interpretation statements (Unformatted Text Value): LOINC 18844-1 EKG impression, as strings
    statements = [(x.code.codings[0].code, x.value.text) for x in m.metrics if x.value.kind == "string"]
    assert statements == [("18844-1", "RITMO SINUSALE"), ("18844-1", "ECG NORMALE")]


def test_generated_12_lead_ecg_mdc_leads():
    # examples/dicom/ecg_12lead.dcm: MDC lead codes (CID 3001 "2:n"), 500 Hz, 2.5 µV × 1.02
    m = decode(builders.to_bytes(builders.ecg_12lead()))
    waves = [x for x in m.metrics if x.value.kind == "sample-array"]
    assert len(waves) == 12
    # CID 3001 lead numbers "2:1", "2:2", "2:61" → the leads' potentials MDC_ECG_ELEC_POTL_I, _II, _III (256 + n),
    # as PCD-01 and the FHIR core / PoCD ECG examples code them
    assert [(w.code.codings[0].code, w.code.codings[0].display) for w in waves[:3]] == [
        ("131329", "MDC_ECG_ELEC_POTL_I"), ("131330", "MDC_ECG_ELEC_POTL_II"), ("131389", "MDC_ECG_ELEC_POTL_III")]
    assert all(w.code.codings[0].system == MDC_SYSTEM for w in waves)
    assert waves[0].code.text == "I"
    value = waves[4].value
    assert len(value.samples) == builders.ECG_SAMPLES
    assert value.samples == tuple(Decimal(builders.ecg_sample(4, n)) for n in range(builders.ECG_SAMPLES))
    assert value.factor == Decimal("2.550")
    assert value.period_ms == Decimal(2)
    assert (value.origin.value, value.origin.unit) == (Decimal(0), "uV")
    assert waves[0].effective.raw == "20240305102000.000+0100"
    qt = m.metrics[-1]
    assert (qt.code.codings[0].code, qt.value.quantity.value, qt.value.quantity.unit) == ("147232", Decimal(388),
                                                                                          "ms")


def test_short_waveform_data_is_a_finding():
    ds = builders.ecg_12lead()
    ds.WaveformSequence[0].WaveformData = ds.WaveformSequence[0].WaveformData[:2400]
    m = decode(builders.to_bytes(ds))
    waves = [x for x in m.metrics if x.value.kind == "sample-array"]
    assert [len(w.value.samples) for w in waves] == [100] * 12
    assert [(i.code, i.location) for i in m.issues] == [("dicom.bad-length", "(5400,0100)[0].(5400,1010)")]


def test_big_endian_waveform():
    # the same ECG written Explicit VR Big Endian: samples are byte-swapped back
    from pydicom.uid import ExplicitVRBigEndian

    ds = builders.ecg_12lead()
    ds.file_meta.TransferSyntaxUID = ExplicitVRBigEndian
    group = ds.WaveformSequence[0]
    raw = group.WaveformData
    group.WaveformData = b"".join(raw[i + 1:i + 2] + raw[i:i + 1] for i in range(0, len(raw), 2))
    data = builders.to_bytes(ds)
    m = decode(data)
    waves = [x for x in m.metrics if x.value.kind == "sample-array"]
    assert waves[1].value.samples[:50] == tuple(Decimal(builders.ecg_sample(1, n)) for n in range(50))
