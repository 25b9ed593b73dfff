"""Devices as an IEEE 11073-10201 DIM containment tree: MDS → VMD → Channel."""

from __future__ import annotations

from typing import Literal

from .common import CodeableConcept, Frozen, Identifier, SourceRef, Timestamp


class ProductionSpec(Frozen, kw_only=True):
    """One entry of MDS production-specification (firmware, software, hardware, serial ...)."""

    kind: Literal[
        "unspecified", "serial-number", "part-number", "hw-revision", "sw-revision",
        "fw-revision", "protocol-revision", "prod-spec-gmdn",
    ]  # spec-type from IEEE 11073-20601 ProdSpecEntry
    value: str  # the printable text
    component_id: int = 0  # component-id (0 = the device as a whole)


class TimeInfo(Frozen, kw_only=True):
    """What a device said about its clock (PHD IG time information, PoCD time sync)."""

    device_time: Timestamp | None = None  # absolute time on the device clock when read
    sync_protocol: str | None = None  # MDC time-sync protocol code (e.g. MDC_TIME_SYNC_NONE)
    accuracy_us: int | None = None  # stated time accuracy in microseconds
    capabilities: tuple[str, ...] = ()  # MDC_TIME_CAP_* flags set


class Device(Frozen, kw_only=True):
    """A node of the device containment tree.

    The top of a tree is an MDS (a whole device or a gateway); its children are VMDs (modules),
    their children channels. Metrics refer to their node by `key`.
    """

    key: str  # unique within the message, e.g. "1" (MDS 1), "1.2" (VMD 2), "1.2.1" (channel 1)
    level: Literal["mds", "vmd", "channel"]  # DIM class of the node
    type: CodeableConcept | None = None  # MDC device/module code (e.g. MDC_DEV_SPEC_PROFILE_BPM)
    identifiers: tuple[Identifier, ...] = ()  # EUI-64 system id, UDI, serial, DICOM DeviceUID ...
    manufacturer: str | None = None  # system-model manufacturer / DICOM Manufacturer
    model: str | None = None  # system-model model number / ManufacturerModelName
    name: str | None = None  # free label (OBX-18 label, StationName)
    production_specs: tuple[ProductionSpec, ...] = ()  # firmware/software/hardware versions
    specializations: tuple[CodeableConcept, ...] = ()  # PHD dev-specializations (MDC_DEV_SPEC_PROFILE_*)
    specialization_versions: tuple[str | None, ...] = ()  # 20601 System-Type-Spec-List version of each
    # specialization, same order as `specializations` (None: the source gave no version)
    config_id: int | None = None  # 20601 dev-config-id (0x02BC ...)
    time: TimeInfo | None = None  # clock information
    reg_cert: tuple[str, ...] = ()  # regulatory certification entries (continua/PHD reg-cert-data-list)
    children: tuple[Device, ...] = ()  # contained VMDs (under an MDS) or channels (under a VMD)
    is_gateway: bool = False  # True for the application hosting/relaying device (PHG, DOR)
    source: SourceRef | None = None  # where the device was described

    def walk(self):
        """This node and every descendant, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()
