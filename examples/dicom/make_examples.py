"""Build the DICOM example files in this folder with pydicom (run: python examples/dicom/make_examples.py).

Every value is invented for the examples (no real patient); codes are from DICOM PS3.16 (DCM, SCT, MDC,
UCUM). The same builders are imported by tests/dicom, so tests and examples never drift apart.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

from pydicom import Dataset, Sequence
from pydicom.dataset import FileMetaDataset
from pydicom.filewriter import dcmwrite
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

HERE = Path(__file__).resolve().parent
CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
COMPREHENSIVE_SR = "1.2.840.10008.5.1.4.1.1.88.33"
ENHANCED_SR = "1.2.840.10008.5.1.4.1.1.88.22"
XRAY_DOSE_SR = "1.2.840.10008.5.1.4.1.1.88.67"
ECG_12_LEAD = "1.2.840.10008.5.1.4.1.1.9.1.1"
MPPS = "1.2.840.10008.3.1.2.3.3"


def uid(name: str) -> str:
    """A deterministic UID for an example object."""
    return generate_uid(entropy_srcs=["iomt-interop example", name])


STUDY_UID = uid("study")
MPPS_UID = uid("mpps")


def code(value: str, scheme: str, meaning: str) -> Dataset:
    """A code sequence item (PS3.3 Table 8.8-1)."""
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def _patient_and_study(ds: Dataset, modality: str, series: str) -> None:
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.PatientName = "Example^Patient"
    ds.PatientID = "EX-0001"
    ds.IssuerOfPatientID = "IOMT-DEMO"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    ds.StudyInstanceUID = STUDY_UID
    ds.StudyDate, ds.StudyTime = "20240305", "101500"
    ds.TimezoneOffsetFromUTC = "+0100"
    ds.AccessionNumber = "ACC-42"
    ds.StudyID = "S1"
    ds.StudyDescription = "Chest CT"
    ds.ReferringPhysicianName = "Referrer^Rita^^Dr"
    ds.Modality = modality
    # Series and instance UIDs differ (PS3.3 C.12.1.1.1: each UID identifies one kind of object); the
    # CT and SR series keep the UIDs they had before this rule was applied to the examples.
    ds.SeriesInstanceUID = uid(series if series in ("ct", "sr") else f"{series}-series")
    ds.SeriesNumber = {"ct": 1, "sr": 100, "dose": 900, "ecg": 1}.get(series, 1)
    ds.InstanceNumber = 1


def _equipment(ds: Dataset) -> None:
    ds.Manufacturer = "ACME Imaging"
    ds.ManufacturerModelName = "Scanner 3000"
    ds.DeviceSerialNumber = "SN-000123"
    ds.SoftwareVersions = ["VA20", "fw 4.5.1"]
    ds.StationName = "CT-ROOM-1"
    ds.DeviceUID = "1.2.826.0.1.3680043.8.498.1"
    udi = Dataset()
    udi.UniqueDeviceIdentifier = "(01)00884838000100(21)SN-000123"
    ds.UDISequence = Sequence([udi])


def _file(ds: Dataset, sop_class: str, sop_uid: str) -> Dataset:
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = sop_uid
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.SourceApplicationEntityTitle = "EXAMPLE_SCU"
    return ds


def ct_image(charset: str = "ISO_IR 100", name: str = "Example^Patient") -> Dataset:
    """A 4×4 CT image with the full equipment module and laterality."""
    ds = Dataset()
    _patient_and_study(ds, "CT", "ct")
    ds.SpecificCharacterSet = charset
    ds.PatientName = name
    _equipment(ds)
    ds.SOPClassUID, ds.SOPInstanceUID = CT_IMAGE, uid(f"ct-image-{charset}")
    ds.InstanceCreationDate, ds.InstanceCreationTime = "20240305", "101733.250"
    ds.SeriesDate, ds.SeriesTime = "20240305", "101600"
    ds.SeriesDescription = "Thorax 1.0 B70f"
    ds.BodyPartExamined = "CHEST"
    ds.AnatomicRegionSequence = Sequence([code("51185008", "SCT", "Thoracic structure")])
    ds.Laterality = "R"
    ds.OperatorsName = "Operator^Olga"
    ds.ProcedureCodeSequence = Sequence([code("24627-2", "LN", "CT Chest")])
    ds.Rows = ds.Columns = 4
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.PixelData = bytes(range(32))
    # The rest of the CT Image IOD (PS3.3 A.3): General Series 2C, Frame of Reference (C.7.4.1), Image
    # Plane (C.7.6.2), CT Image (C.8.2.1), so dciodvfy has nothing to say about the example but Laterality.
    ds.PatientPosition = "HFS"
    ds.FrameOfReferenceUID = uid("frame-of-reference")
    ds.PositionReferenceIndicator = ""
    ds.PixelSpacing = [0.7, 0.7]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.ImagePositionPatient = [-1.4, -1.4, -120.0]
    ds.SliceThickness = "1.0"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.RescaleIntercept, ds.RescaleSlope = "-1024", "1"
    ds.KVP = "120"
    ds.AcquisitionNumber = 1
    return _file(ds, CT_IMAGE, ds.SOPInstanceUID)


def _item(relationship: str, value_type: str, concept: Dataset, **values) -> Dataset:
    it = Dataset()
    it.RelationshipType = relationship
    it.ValueType = value_type
    it.ConceptNameCodeSequence = Sequence([concept])
    for key, value in values.items():
        setattr(it, key, value)
    return it


def num(concept: Dataset, value: str, unit: str, unit_meaning: str) -> Dataset:
    """A CONTAINS NUM content item with a UCUM unit."""
    mv = Dataset()
    mv.NumericValue = value
    mv.MeasurementUnitsCodeSequence = Sequence([code(unit, "UCUM", unit_meaning)])
    return _item("CONTAINS", "NUM", concept, MeasuredValueSequence=Sequence([mv]))


def container(relationship: str, concept: Dataset, children: list[Dataset], template: str | None = None) -> Dataset:
    """A CONTAINER content item."""
    it = _item(relationship, "CONTAINER", concept, ContinuityOfContent="SEPARATE", ContentSequence=Sequence(children))
    if template:
        t = Dataset()
        t.MappingResource, t.TemplateIdentifier = "DCMR", template
        it.ContentTemplateSequence = Sequence([t])
    return it


def _sr_document(ds: Dataset, title: Dataset, template: str, children: list[Dataset]) -> None:
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = Sequence([title])
    ds.ContinuityOfContent = "SEPARATE"
    t = Dataset()
    t.MappingResource, t.TemplateIdentifier = "DCMR", template
    ds.ContentTemplateSequence = Sequence([t])
    ds.CompletionFlag, ds.VerificationFlag = "COMPLETE", "UNVERIFIED"
    ds.ContentDate, ds.ContentTime = "20240305", "103000"
    ds.ContentSequence = Sequence(children)
    # Type 2 of the SR Document Series / General modules (PS3.3 C.17.1, C.17.2): present, may be empty
    ds.ReferencedPerformedProcedureStepSequence = Sequence()
    ds.PerformedProcedureCodeSequence = Sequence([code("24627-2", "LN", "CT Chest")])


def tid1500_report() -> Dataset:
    """TID 1500 Imaging Measurement Report: one measurement group (TID 1501) of a lung nodule."""
    ds = Dataset()
    _patient_and_study(ds, "SR", "sr")
    _equipment(ds)
    ds.SOPClassUID, ds.SOPInstanceUID = COMPREHENSIVE_SR, uid("tid1500")
    group = container("CONTAINS", code("125007", "DCM", "Measurement Group"), [
        _item("HAS OBS CONTEXT", "TEXT", code("112039", "DCM", "Tracking Identifier"), TextValue="Nodule 1"),
        _item("HAS OBS CONTEXT", "UIDREF", code("112040", "DCM", "Tracking Unique Identifier"),
              UID=uid("nodule-1")),
        _item("HAS CONCEPT MOD", "CODE", code("121071", "DCM", "Finding"),
              ConceptCodeSequence=Sequence([code("27925004", "SCT", "Nodule")])),
        _item("HAS CONCEPT MOD", "CODE", code("363698007", "SCT", "Finding Site"),
              ConceptCodeSequence=Sequence([code("39607008", "SCT", "Lung structure")])),
        num(code("103339001", "SCT", "Long Axis"), "12.5", "mm", "millimeter"),
        num(code("103340004", "SCT", "Short Axis"), "8.20", "mm", "millimeter"),
        num(code("118565006", "SCT", "Volume"), "450.3", "mm3", "cubic millimeter"),
    ], template="1501")
    _sr_document(ds, code("126000", "DCM", "Imaging Measurement Report"), "1500", [
        _item("HAS CONCEPT MOD", "CODE", code("121049", "DCM", "Language of Content Item and Descendants"),
              ConceptCodeSequence=Sequence([code("en-US", "RFC5646", "English (United States)")])),
        _item("HAS OBS CONTEXT", "PNAME", code("121008", "DCM", "Person Observer Name"), PersonName="Reader^Rob"),
        _item("HAS CONCEPT MOD", "CODE", code("121058", "DCM", "Procedure reported"),
              ConceptCodeSequence=Sequence([code("77477000", "SCT", "Computed Tomography")])),
        container("CONTAINS", code("126010", "DCM", "Imaging Measurements"), [group]),
    ])
    return _file(ds, COMPREHENSIVE_SR, ds.SOPInstanceUID)


def _ct_acquisition(n: int, ctdivol: str, dlp: str) -> Dataset:
    return container("CONTAINS", code("113819", "DCM", "CT Acquisition"), [
        _item("CONTAINS", "TEXT", code("125203", "DCM", "Acquisition Protocol"), TextValue="Thorax"),
        _item("CONTAINS", "CODE", code("123014", "DCM", "Target Region"),
              ConceptCodeSequence=Sequence([code("51185008", "SCT", "Thoracic structure")])),
        _item("CONTAINS", "CODE", code("113820", "DCM", "CT Acquisition Type"),
              ConceptCodeSequence=Sequence([code("116152004", "SCT", "Spiral Acquisition")])),
        _item("CONTAINS", "UIDREF", code("113769", "DCM", "Irradiation Event UID"), UID=uid(f"event-{n}")),
        container("CONTAINS", code("113829", "DCM", "CT Dose"), [
            num(code("113830", "DCM", "Mean CTDIvol"), ctdivol, "mGy", "mGy"),
            _item("CONTAINS", "CODE", code("113835", "DCM", "CTDIw Phantom Type"),
                  ConceptCodeSequence=Sequence([code("113691", "DCM", "IEC Body Dosimetry Phantom")])),
            num(code("113838", "DCM", "DLP"), dlp, "mGy.cm", "mGy.cm"),
        ]),
    ])


def ct_dose_report() -> Dataset:
    """TID 10011 CT Radiation Dose: accumulated DLP and two irradiation events (CTDIvol, DLP each)."""
    ds = Dataset()
    _patient_and_study(ds, "SR", "dose")
    _equipment(ds)
    ds.SOPClassUID, ds.SOPInstanceUID = XRAY_DOSE_SR, uid("dose")
    _sr_document(ds, code("113701", "DCM", "X-Ray Radiation Dose Report"), "10011", [
        _item("HAS CONCEPT MOD", "CODE", code("121058", "DCM", "Procedure reported"),
              ConceptCodeSequence=Sequence([code("77477000", "SCT", "Computed Tomography X-Ray")])),
        _item("HAS OBS CONTEXT", "UIDREF", code("121012", "DCM", "Device Observer UID"),
              UID="1.2.826.0.1.3680043.8.498.1"),
        container("CONTAINS", code("113811", "DCM", "CT Accumulated Dose Data"), [
            num(code("113812", "DCM", "Total Number of Irradiation Events"), "2", "{events}", "events"),
            num(code("113813", "DCM", "CT Dose Length Product Total"), "613.47", "mGy.cm", "mGy.cm"),
        ]),
        _ct_acquisition(1, "2.31", "12.05"),
        _ct_acquisition(2, "8.76", "601.42"),
    ])
    return _file(ds, XRAY_DOSE_SR, ds.SOPInstanceUID)


# DICOM CID 3001 "ECG Leads" in MDC (partition 2): code value "2:n".
ECG_LEADS = (("2:1", "Lead I"), ("2:2", "Lead II"), ("2:61", "Lead III"), ("2:62", "Lead aVR"),
             ("2:63", "Lead aVL"), ("2:64", "Lead aVF"), ("2:3", "Lead V1"), ("2:4", "Lead V2"),
             ("2:5", "Lead V3"), ("2:6", "Lead V4"), ("2:7", "Lead V5"), ("2:8", "Lead V6"))
ECG_SAMPLES = 500  # 1 s at 500 Hz


def ecg_sample(channel: int, n: int) -> int:
    """The synthetic sample value of `channel` at index `n` (a sine per lead, amplitude 400)."""
    return round(400 * math.sin(2 * math.pi * (n / 100 + channel / 12)))


def ecg_12lead() -> Dataset:
    """A 12-lead ECG (1 s, 500 Hz, SS 16-bit, 2.5 µV × 1.02 per unit, baseline 0) with a QT annotation."""
    ds = Dataset()
    _patient_and_study(ds, "ECG", "ecg")
    _equipment(ds)
    ds.SOPClassUID, ds.SOPInstanceUID = ECG_12_LEAD, uid("ecg")
    ds.AcquisitionDateTime = "20240305102000.000+0100"
    ds.ContentDate, ds.ContentTime = "20240305", "102000"  # Waveform Identification (C.10.8), Type 1
    ds.AcquisitionContextSequence = Sequence()  # Acquisition Context (C.7.6.14), Type 2: present, empty
    group = Dataset()
    # No Multiplex Group Time Offset: C.10.9 makes it 1C, required only when Acquisition DateTime is absent
    group.WaveformOriginality = "ORIGINAL"
    group.NumberOfWaveformChannels = 12
    group.NumberOfWaveformSamples = ECG_SAMPLES
    group.SamplingFrequency = "500"
    group.MultiplexGroupLabel = "RHYTHM"
    channels = []
    for value, meaning in ECG_LEADS:
        ch = Dataset()
        ch.ChannelLabel = meaning.replace("Lead ", "")
        ch.ChannelSourceSequence = Sequence([code(value, "MDC", meaning)])
        ch.ChannelSensitivity = "2.5"
        ch.ChannelSensitivityUnitsSequence = Sequence([code("uV", "UCUM", "microvolt")])
        ch.ChannelSensitivityCorrectionFactor = "1.02"
        ch.ChannelBaseline = "0"
        ch.WaveformBitsStored = 16
        ch.ChannelSampleSkew = "0"  # C.10.9: Channel Time Skew or Channel Sample Skew (1C pair)
        channels.append(ch)
    group.ChannelDefinitionSequence = Sequence(channels)
    group.WaveformBitsAllocated = 16
    group.WaveformSampleInterpretation = "SS"
    data = bytearray()
    for n in range(ECG_SAMPLES):
        for c in range(12):
            data += ecg_sample(c, n).to_bytes(2, "little", signed=True)
    group.WaveformData = bytes(data)
    ds.WaveformSequence = Sequence([group])
    qt = Dataset()
    qt.ConceptNameCodeSequence = Sequence([code("2:16160", "MDC", "QT interval global")])
    qt.NumericValue = "388"
    qt.MeasurementUnitsCodeSequence = Sequence([code("ms", "UCUM", "millisecond")])
    qt.AnnotationGroupNumber = 1
    qt.ReferencedWaveformChannels = [1, 0]  # C.10.10: multiplex group 1, channel 0 = all channels
    ds.WaveformAnnotationSequence = Sequence([qt])
    return _file(ds, ECG_12_LEAD, ds.SOPInstanceUID)


def mpps_n_create() -> Dataset:
    """The N-CREATE dataset of an MPPS (PS3.4 F.7.2.1): IN PROGRESS."""
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.PatientName = "Example^Patient"
    ds.PatientID = "EX-0001"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    step = Dataset()
    step.StudyInstanceUID = STUDY_UID
    step.AccessionNumber = "ACC-42"
    step.RequestedProcedureID = "RP-7"
    step.ScheduledProcedureStepID = "SPS-7"
    ds.ScheduledStepAttributesSequence = Sequence([step])
    ds.PerformedStationAETitle = "CT01"
    ds.PerformedStationName = "CT-ROOM-1"
    ds.PerformedProcedureStepStartDate, ds.PerformedProcedureStepStartTime = "20240305", "101500"
    ds.PerformedProcedureStepEndDate = ds.PerformedProcedureStepEndTime = ""
    ds.PerformedProcedureStepStatus = "IN PROGRESS"
    ds.PerformedProcedureStepID = "PPS-1"
    ds.PerformedProcedureStepDescription = "CT Chest without contrast"
    ds.Modality = "CT"
    ds.ProcedureCodeSequence = Sequence([code("24627-2", "LN", "CT Chest")])
    return ds


def mpps_n_set(status: str = "COMPLETED") -> Dataset:
    """The N-SET dataset that completes (or discontinues) the step (PS3.4 F.7.2.2)."""
    ds = Dataset()
    ds.PerformedProcedureStepEndDate, ds.PerformedProcedureStepEndTime = "20240305", "102812"
    ds.PerformedProcedureStepStatus = status
    if status == "DISCONTINUED":
        ds.PerformedProcedureStepDiscontinuationReasonCodeSequence = Sequence(
            [code("110514", "DCM", "Incorrect worklist entry selected")])
    series = Dataset()
    series.SeriesInstanceUID = uid("ct")
    series.PerformingPhysicianName = ""
    series.ProtocolName = "Thorax"
    series.OperatorsName = "Operator^Olga"
    series.ReferencedImageSequence = Sequence()
    ds.PerformedSeriesSequence = Sequence([series])
    return ds


def mpps_file(ds: Dataset) -> Dataset:
    """An MPPS dataset stored as a Part 10 file (meta carries the MPPS SOP Instance UID)."""
    return _file(ds, MPPS, MPPS_UID)


def to_bytes(ds: Dataset) -> bytes:
    """Part 10 bytes of `ds` (128-byte preamble, DICM, meta group, Explicit VR Little Endian)."""
    buf = io.BytesIO()
    dcmwrite(buf, ds, enforce_file_format=True)
    return buf.getvalue()


EXAMPLES = {
    "ct_image.dcm": ct_image,
    "ct_image_iso2022_jp.dcm": lambda: ct_image("\\ISO 2022 IR 87", "Yamada^Tarou=山田^太郎=やまだ^たろう"),
    "ct_image_utf8.dcm": lambda: ct_image("ISO_IR 192", "Wang^XiaoDong=王^小東="),
    "sr_tid1500_measurement_report.dcm": tid1500_report,
    "sr_ct_radiation_dose.dcm": ct_dose_report,
    "ecg_12lead.dcm": ecg_12lead,
    "mpps_n_create.dcm": lambda: mpps_file(mpps_n_create()),
    "mpps_n_set_completed.dcm": lambda: mpps_file(mpps_n_set("COMPLETED")),
}


def main() -> None:
    """Write every example file next to this script."""
    for name, build in EXAMPLES.items():
        (HERE / name).write_bytes(to_bytes(build()))
        print(name)


if __name__ == "__main__":
    main()
