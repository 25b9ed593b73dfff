"""Header modules → canonical model: patient, study/series/instance, equipment, charsets, times."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pydicom
import pytest
from dicom_fixtures import builders, decode, packaged

from interop.errors import DecodeError
from interop.model import SNOMED_SYSTEM


def test_ct_small_header():
    # pydicom test file CT_small.dcm (David Clunie's compressed samples, GE RHAPSODE, TZ -0500)
    m = decode(packaged("CT_small.dcm"))
    assert m.standard == "dicom"
    assert m.message_type == "CT Image Storage"
    assert m.version == "1.2.840.10008.1.2.1"
    assert m.control_id == "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322"
    assert m.sending.application == "CLUNIE1"
    study = m.imaging_study
    assert study.uid == "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322"
    assert study.started.value == datetime(2004, 1, 19, 7, 27, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert study.started.raw == "20040119072730-0500"
    (series,) = study.series
    assert series.uid == "1.3.6.1.4.1.5962.1.3.1.1.20040119072730.12322"
    assert series.modality == "CT"
    assert series.number == 1
    assert series.device_key == "1"
    (inst,) = series.instances
    assert inst.sop_class_uid == "1.2.840.10008.5.1.4.1.1.2"
    assert inst.sop_instance_uid == m.control_id
    (device,) = m.devices
    assert (device.level, device.manufacturer, device.model, device.name) == ("mds", "GE MEDICAL SYSTEMS",
                                                                              "RHAPSODE", "CT01_OC0")
    assert [(p.kind, p.value) for p in device.production_specs] == [("sw-revision", "05")]
    assert m.patient.identifiers[0].value == "1CT1"
    assert (m.patient.names[0].family, m.patient.names[0].given) == ("CompressedSamples", ("CT1",))
    assert m.patient.sex == "O"
    assert m.issues == ()


def test_mr_small_serial_number():
    # pydicom test file MR_small.dcm: Toshiba MRT50H1, DeviceSerialNumber "-0000200", SoftwareVersions V3.51*P25
    m = decode(packaged("MR_small.dcm"))
    (device,) = m.devices
    assert [(i.type, i.value) for i in device.identifiers] == [("SNO", "-0000200")]
    assert device.production_specs[0].value == "V3.51*P25"
    assert m.imaging_study.series[0].modality == "MR"


@pytest.mark.parametrize("name", ["MR_small_bigendian.dcm", "MR_small_implicit.dcm", "MR_small_expb.dcm"])
def test_transfer_syntaxes_give_the_same_header(name):
    # pydicom test files: the same MR header in big endian, implicit VR and explicit big endian
    ref = decode(packaged("MR_small.dcm"))
    m = decode(packaged(name))
    assert m.imaging_study.uid == ref.imaging_study.uid
    assert m.devices == ref.devices
    assert m.patient == ref.patient


def test_raw_dataset_without_preamble():
    # pydicom test file ExplVR_BigEndNoMeta.dcm: no preamble, no meta, explicit VR big endian (CMS XiO)
    data = packaged("ExplVR_BigEndNoMeta.dcm")
    from dicom_fixtures import CODEC

    assert 0 < CODEC.sniff(data[:4096]) < 100
    m = decode(data)
    assert m.message_type == "RT Ion Plan Storage"
    assert m.devices[0].manufacturer == "CMS, Inc."
    assert m.devices[0].model == "XiO"


def test_sniff_part10():
    from dicom_fixtures import CODEC

    assert CODEC.sniff(packaged("CT_small.dcm")[:4096]) == 100
    assert CODEC.sniff(b"MSH|^~\\&|") == 0


def test_equipment_module_generated():
    # examples/dicom/ct_image.dcm (make_examples.ct_image): full General Equipment + UDI
    m = decode(builders.to_bytes(builders.ct_image()))
    (device,) = m.devices
    assert device.key == "1" and device.level == "mds"
    assert device.manufacturer == "ACME Imaging"
    assert device.model == "Scanner 3000"
    assert device.name == "CT-ROOM-1"
    assert [(i.type, i.system, i.value) for i in device.identifiers] == [
        ("SNO", None, "SN-000123"),
        (None, "urn:dicom:uid", "urn:oid:1.2.826.0.1.3680043.8.498.1"),
        ("UDI", None, "(01)00884838000100(21)SN-000123"),
    ]
    assert [(p.kind, p.value) for p in device.production_specs] == [("sw-revision", "VA20"),
                                                                     ("sw-revision", "fw 4.5.1")]
    series = m.imaging_study.series[0]
    assert series.device_key == "1"
    assert series.laterality.codings[0].system == SNOMED_SYSTEM
    assert series.laterality.codings[0].code == "24028007"  # DICOM CID 244: Right
    assert series.body_site.text == "CHEST"
    assert series.body_site.codings[0].code == "51185008"
    assert series.performer == "Olga Operator"
    assert m.imaging_study.identifiers[0].type == "ACSN" and m.imaging_study.identifiers[0].value == "ACC-42"
    assert m.imaging_study.procedure_codes[0].codings[0].system == "http://loinc.org"
    assert m.imaging_study.referrer == "Dr Rita Referrer"
    assert m.patient.identifiers[0].assigner == "IOMT-DEMO"
    assert m.patient.birth_date.precision == "day"
    assert m.patient.birth_date.value == datetime(1970, 1, 1)  # dates stay naive: no zone shift
    # TimezoneOffsetFromUTC +0100 applied to DA+TM pairs
    assert m.imaging_study.started.value == datetime(2024, 3, 5, 10, 15, tzinfo=timezone(timedelta(hours=1)))
    assert m.sent.precision == "millisecond"
    assert m.sent.value.microsecond == 250000
    assert [p.role for p in m.practitioners] == ["referring", "operator"]
    assert m.issues == ()


def test_iso2022_japanese_person_name():
    # PS3.5 Annex H.3.1 name "Yamada^Tarou=山田^太郎=やまだ^たろう" encoded with ISO 2022 IR 87 by pydicom
    ds = builders.ct_image("\\ISO 2022 IR 87", "Yamada^Tarou=山田^太郎=やまだ^たろう")
    data = builders.to_bytes(ds)
    assert b"\x1b$B" in data  # the JIS X 0208 escape sequence is really in the file
    name = decode(data).patient.names[0]
    assert (name.family, name.given) == ("Yamada", ("Tarou",))
    assert name.text == "Yamada^Tarou=山田^太郎=やまだ^たろう"


def test_utf8_person_name():
    # PS3.5 Annex J example name "Wang^XiaoDong=王^小東=" with Specific Character Set ISO_IR 192
    name = decode(builders.to_bytes(builders.ct_image("ISO_IR 192", "Wang^XiaoDong=王^小東="))).patient.names[0]
    assert (name.family, name.given) == ("Wang", ("XiaoDong",))
    assert name.text == "Wang^XiaoDong=王^小東"


def _ct_with(**changes):
    ds = builders.ct_image()
    for key, value in changes.items():
        setattr(ds, key, value)
    return builders.to_bytes(ds)


def test_unknown_charset_tolerant_and_strict():
    data = _ct_with(SpecificCharacterSet="ISO_IR 999")
    m = decode(data)
    assert [(i.code, i.location) for i in m.issues] == [("dicom.unknown-charset", "(0008,0005)")]
    assert m.patient.names[0].family == "Example"
    with pytest.raises(DecodeError) as err:
        decode(data, strict=True)
    assert err.value.position == "(0008,0005)"


def test_bad_date_recorded_with_tag():
    m = decode(_ct_with(StudyDate="2024-03-05"))
    assert m.imaging_study.started is None
    assert [(i.code, i.location) for i in m.issues] == [("dicom.bad-value", "(0008,0020)")]
    assert "2024" not in m.issues[0].message  # values never copied into findings


def test_bad_timezone_offset():
    m = decode(_ct_with(TimezoneOffsetFromUTC="0100"))
    assert ("dicom.bad-value", "(0008,0201)") in [(i.code, i.location) for i in m.issues]
    assert m.imaging_study.started.value.tzinfo is None


def test_missing_required_uid():
    ds = builders.ct_image()
    del ds.SeriesInstanceUID
    m = decode(builders.to_bytes(ds))
    assert m.imaging_study.series == ()
    assert [(i.code, i.location) for i in m.issues] == [("dicom.missing-element", "(0020,000E)")]
    with pytest.raises(DecodeError) as err:
        decode(builders.to_bytes(ds), strict=True)
    assert err.value.position == "(0020,000E)"


def test_pixel_data_is_not_read():
    # pydicom test file MR_truncated.dcm: header complete, Pixel Data cut short
    m = decode(packaged("MR_truncated.dcm"))
    assert m.imaging_study.series[0].modality == "MR"
    assert [(i.code, i.location) for i in m.issues] == [("dicom.truncated-pixel-data", "(7FE0,0010)")]
    with pytest.raises(DecodeError):
        decode(packaged("MR_truncated.dcm"), strict=True)


def test_decode_dataset_from_network_dataset():
    # the DICOM node passes datasets pydicom already holds in memory (converted values, not raw bytes)
    from interop.codecs.dicom.header import decode_dataset

    ds = builders.ct_image()
    m = decode_dataset(ds, sending_ae="MODALITY1")
    assert m.sending.application == "MODALITY1"
    assert m.devices == decode(builders.to_bytes(builders.ct_image())).devices
    assert m.imaging_study.series[0].number == 1


def test_pipeline_detects_dicom(tmp_path):
    from interop import decode as interop_decode

    path = tmp_path / "ct.dcm"
    path.write_bytes(packaged("CT_small.dcm"))
    m = interop_decode(str(path))
    assert m.standard == "dicom" and m.raw.name == "ct.dcm"


def test_person_name_components():
    from interop.codecs.dicom.elements import person_name

    n = person_name("Adams^John Robert Quincy^^Rev.^B.A. M.Div.")  # PS3.5 6.2.1.1 example
    assert (n.family, n.given, n.prefix, n.suffix) == ("Adams", ("John Robert Quincy",), "Rev.", "B.A. M.Div.")
    assert person_name("") is None and person_name("^^^^") is None


def test_dt_precision_and_offset():
    from interop.codecs.dicom.dates import dt_value

    ts = dt_value("20240305102000.123456-0330", None)
    assert ts.precision == "microsecond"
    assert ts.value.utcoffset() == -timedelta(hours=3, minutes=30)
    assert dt_value("2024", None).precision == "year"
    assert Decimal(dt_value("202403", None).value.month) == 3
    with pytest.raises(ValueError):
        dt_value("2024-03-05", None)


def test_pydicom_version_supported():
    assert int(pydicom.__version__.split(".")[0]) >= 3


def test_bad_integer_string_is_a_finding():
    data = builders.to_bytes(builders.ct_image())
    patched = data.replace(b"\x20\x00\x11\x00IS\x02\x001 ", b"\x20\x00\x11\x00IS\x02\x00x ")  # SeriesNumber "x"
    assert patched != data
    m = decode(patched)
    assert m.imaging_study.series[0].number is None
    assert [(i.code, i.location) for i in m.issues] == [("dicom.bad-value", "(0020,0011)")]


def test_bytes_invalid_in_declared_charset():
    data = builders.to_bytes(builders.ct_image("ISO_IR 192", "Example^Patient"))
    patched = data.replace(b"Example^Patient", b"Ex\xffmple^Patient")  # 0xFF never occurs in UTF-8
    m = decode(patched)
    assert m.patient.names[0].family == "Ex\ufffdmple"
    assert [(i.code, i.location, i.severity) for i in m.issues] == [("dicom.bad-charset", "(0010,0010)", "warning")]
