"""The PCD-04 alert attribute codes are data (codecs/hl7v2/alert_attributes.toml, shipped in the package):
the table the alarm reader uses, pinned, and a broken table is refused with the entry named."""

from __future__ import annotations

from pathlib import Path

import pytest
from interop.codecs.hl7v2 import alarm


def test_table_is_package_data_with_the_codes_of_ihe_pcd_tf2():
    assert alarm.TABLE.name == "alert_attributes.toml" and alarm.TABLE.is_file()
    assert alarm.LEGACY_ROLE_BY_CODE == {"68164": "source", "68165": "phase", "68166": "state",
                                         "68167": "inactivation", "68168": "priority"}
    assert alarm.ROLE_BY_CODE == {"68480": "source", "68481": "phase", "68482": "state", "68483": "inactivation",
                                  "68484": "priority", "68485": "kind", "68546": "text"}
    assert alarm.ROLE_BY_REFID["MDC_ATTR_ALARM_INACTIVATION_STATE"] == "inactivation"
    assert alarm.ROLE_BY_REFID["MDC_ATTR_EVT_PHASE"] == "phase" and len(alarm.ROLE_BY_REFID) == 10
    assert alarm.EVENT_ALARM == "196616"
    assert {k: alarm.PRIORITY[k] for k in ("PH", "PM", "PL", "PN")} == {
        "PH": "high", "PM": "medium", "PL": "low", "PN": "none"}
    assert {k: alarm.KIND[k] for k in ("SP", "ST", "SA")} == {
        "SP": "physiological", "ST": "technical", "SA": "advisory"}


def test_wheel_ships_the_table():
    import tomllib

    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    data = tomllib.loads(text)["tool"]["setuptools"]["package-data"]
    assert "*.toml" in data["interop.codecs.hl7v2"]


@pytest.mark.parametrize(("edit", "message"), [
    (('68166 = "state"', '68166 = "colour"'), "[legacy_code]: 68166 = 'colour'; expected one of"),
    (('PH = "high"', 'PH = "urgent"'), "[priority]: PH = 'urgent'"),
    (("[kind]", "[kinds]"), "section [kind] is missing"),
    (('event_alarm = "196616"', 'event_alarm = "MDC_EVT_ALARM"'), "event_alarm must be an MDC code"),
])
def test_broken_table_is_refused(tmp_path, edit, message):
    broken = tmp_path / "alert_attributes.toml"
    broken.write_text(alarm.TABLE.read_text().replace(*edit))
    with pytest.raises(ValueError) as err:
        alarm._load_table(broken)
    assert message in str(err.value)
