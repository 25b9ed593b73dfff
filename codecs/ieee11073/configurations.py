"""Device configurations: standard ones as data (data/standard_configurations.json) and extended ones learnt
from MDC_NOTI_CONFIG, remembered per system id (20601 clause 8.4 / A.11.5)."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from . import apdu, attributes
from . import nomenclature as nom


@dataclass(frozen=True)
class ConfigObject:
    """One object of a configuration (metric, scanner, PM-store) with its static attributes decoded."""

    obj_class: int
    obj_handle: int
    attributes: dict[int, Any] = field(default_factory=dict)  # attribute id -> decoded value

    @property
    def type(self) -> tuple[int, int] | None:
        """(partition, code) of MDC_ATTR_ID_TYPE."""
        t = self.attributes.get(nom.MDC_ATTR_ID_TYPE)
        return (t.partition, t.code) if t is not None else None

    @property
    def val_map(self) -> list[tuple[int, int]]:
        """(attribute id, length) pairs of MDC_ATTR_ATTRIBUTE_VAL_MAP, in order."""
        return [(e.attribute_id, e.attribute_len) for e in self.attributes.get(nom.MDC_ATTR_ATTRIBUTE_VAL_MAP, ())]


@dataclass(frozen=True)
class Configuration:
    """The object list of one dev-config-id."""

    config_id: int
    objects: dict[int, ConfigObject]  # handle -> object
    specialization: tuple[int, int] | None = None  # (partition INFRA, MDC_DEV_SPEC_PROFILE_*) for standard ones
    name: str | None = None

    @property
    def is_standard(self) -> bool:
        """True for dev-config-ids 0x0001..0x3FFF."""
        return nom.STANDARD_CONFIG_START <= self.config_id <= nom.STANDARD_CONFIG_END


def from_config_report(report: Any, base: int = 0) -> Configuration:
    """A Configuration from a parsed ConfigReport that started at absolute offset `base`.

    Raises apdu.LayoutError (with the absolute offset of the attribute) on a bad attribute value.
    """
    objects: dict[int, ConfigObject] = {}
    pos = base + 6  # config-report-id, count, length
    for obj in report.config_obj_list:
        pos += 8  # obj-class, obj-handle, attribute count, attribute length
        attrs: dict[int, Any] = {}
        for ava in obj.attributes:
            attrs[ava.attribute_id] = attributes.decode(ava.attribute_id, ava.attribute_value, pos + 4)
            pos += 4 + len(ava.attribute_value)
        objects[obj.obj_handle] = ConfigObject(obj.obj_class, obj.obj_handle, attrs)
    return Configuration(report.config_report_id, objects)


def _attribute_value(attr_id: int, value: Any) -> Any:
    """JSON shape -> declaration shape for the attributes used in the data file."""
    if attr_id == nom.MDC_ATTR_ID_TYPE:
        return {"partition": value[0], "code": value[1]}
    if attr_id == nom.MDC_ATTR_METRIC_STRUCT_SMALL:
        return {"ms_struct": value[0], "ms_comp_no": value[1]}
    if attr_id == nom.MDC_ATTR_ATTRIBUTE_VAL_MAP:
        return [{"attribute_id": a, "attribute_len": n} for a, n in value]
    return value


def config_report_value(entry: dict[str, Any]) -> dict[str, Any]:
    """The ConfigReport value (for apdu.ConfigReport.build) of one data-file entry."""
    objs = []
    for obj in entry["objects"]:
        avas = []
        for name, value in obj["attributes"].items():
            attr_id = nom.ATTR_ID[name]
            avas.append({"attribute_id": attr_id,
                         "attribute_value": attributes.encode(attr_id, _attribute_value(attr_id, value))})
        objs.append({"obj_class": obj["obj_class"], "obj_handle": obj["obj_handle"], "attributes": avas})
    return {"config_report_id": entry["dev_config_id"], "config_obj_list": objs}


@cache
def _entries() -> dict[int, dict[str, Any]]:
    text = resources.files(__package__).joinpath("data/standard_configurations.json").read_text("utf-8")
    return {e["dev_config_id"]: e for e in json.loads(text)["configurations"]}


def standard_ids() -> list[int]:
    """The dev-config-ids of every standard configuration known."""
    return sorted(_entries())


def standard_entry(config_id: int) -> dict[str, Any] | None:
    """The data-file entry of a standard configuration."""
    return _entries().get(config_id)


@cache
def standard(config_id: int) -> Configuration | None:
    """The standard configuration `config_id`, or None when it is not known."""
    entry = _entries().get(config_id)
    if entry is None:
        return None
    report = apdu.ConfigReport.parse(apdu.ConfigReport.build(config_report_value(entry)))
    conf = from_config_report(report)
    return Configuration(conf.config_id, conf.objects, tuple(entry["specialization"]), entry["name"])


class ConfigStore:
    """Extended configurations remembered per (system id, dev-config-id); optionally kept in a directory."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self._known: dict[tuple[str, int], bytes] = {}  # -> ConfigReport octets
        self._lock = threading.Lock()
        self._dir = Path(directory) if directory else None
        if self._dir:
            self._dir.mkdir(parents=True, exist_ok=True)
            for path in self._dir.glob("*.cfg"):
                sysid, _, cid = path.stem.partition("_")
                try:
                    self._known[(sysid, int(cid, 16))] = path.read_bytes()
                except ValueError:
                    continue

    def get(self, system_id: str, config_id: int) -> Configuration | None:
        """The configuration for an agent: standard ones from data, extended ones if learnt before."""
        conf = standard(config_id)
        if conf is not None:
            return conf
        with self._lock:
            raw = self._known.get((system_id, config_id))
        return from_config_report(apdu.ConfigReport.parse(raw)) if raw else None

    def remember(self, system_id: str, report_octets: bytes, config_id: int) -> None:
        """Keep an accepted extended configuration (durably when a directory was given)."""
        with self._lock:
            self._known[(system_id, config_id)] = report_octets
        if self._dir:
            path = self._dir / f"{system_id}_{config_id:04X}.cfg"
            tmp = path.with_suffix(".tmp")
            with open(tmp, "wb") as fh:
                fh.write(report_octets)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
