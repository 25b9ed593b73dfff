"""MPPS SCP state table (PS3.4 F.7.2.1 N-CREATE, F.7.2.2 N-SET; statuses PS3.7 Annex C)."""

from __future__ import annotations

import itertools

from pydicom import Dataset

from interop.transport.dicom import mpps


def _ds(status: str | None = None, **kw: str) -> Dataset:
    ds = Dataset()
    if status is not None:
        ds.PerformedProcedureStepStatus = status
    for k, v in kw.items():
        setattr(ds, k, v)
    return ds


def test_table_covers_every_event_and_state() -> None:
    events = (mpps.N_CREATE, mpps.N_SET, mpps.N_SET_COMPLETED, mpps.N_SET_DISCONTINUED)
    states = (mpps.NO_INSTANCE, mpps.IN_PROGRESS, mpps.COMPLETED, mpps.DISCONTINUED)
    assert set(mpps.TRANSITION_TABLE) == set(itertools.product(events, states))


def test_create_set_complete() -> None:
    table = mpps.MppsTable()
    uid = "1.2.826.0.1.3680043.2.1125.1.1"
    assert table.n_create(uid, _ds("IN PROGRESS", PerformedProcedureStepID="PPS1"))[0] == 0x0000
    assert table.state(uid) == "IN PROGRESS"
    assert table.n_create(uid, _ds("IN PROGRESS"))[0] == 0x0111  # duplicate SOP instance
    assert table.n_set(uid, _ds(PerformedProcedureStepDescription="CT chest"))[0] == 0x0000  # stays IN PROGRESS
    status, ds = table.n_set(uid, _ds("COMPLETED"))
    assert (status, ds.PerformedProcedureStepStatus, ds.PerformedProcedureStepDescription) == (
        0x0000, "COMPLETED", "CT chest")
    assert table.n_set(uid, _ds("IN PROGRESS"))[0] == 0x0110  # final: no more N-SET


def test_refusals() -> None:
    table = mpps.MppsTable()
    assert table.n_create(None, _ds("IN PROGRESS"))[0] == 0x0120  # no Affected SOP Instance UID
    assert table.n_create("1.2.3", _ds("COMPLETED"))[0] == 0x0106  # must start IN PROGRESS
    assert table.n_set("1.2.3", _ds("COMPLETED"))[0] == 0x0112  # no such instance
    table.n_create("1.2.3", _ds("IN PROGRESS"))
    assert table.n_set("1.2.3", _ds("FINISHED"))[0] == 0x0106  # not a defined term
    assert table.n_set("1.2.3", _ds("DISCONTINUED"))[0] == 0x0000
    assert table.state("1.2.3") == "DISCONTINUED"


def test_persist_before_the_change_and_refuse_when_it_fails() -> None:
    kept: dict[str, Dataset] = {}
    broken = [False]

    def persist(uid: str, ds: Dataset) -> None:
        if broken[0]:
            raise OSError("disk full")
        kept[uid] = ds

    table = mpps.MppsTable(persist=persist)
    uid = "1.2.826.0.1.3680043.2.1125.1.2"
    assert table.n_create(uid, _ds("IN PROGRESS", PerformedProcedureStepID="PPS2"))[0] == 0x0000
    assert kept[uid].PerformedProcedureStepStatus == "IN PROGRESS"
    broken[0] = True
    assert table.n_set(uid, _ds("COMPLETED")) == (0x0110, None)  # not durable: processing failure
    assert table.state(uid) == "IN PROGRESS" and kept[uid].PerformedProcedureStepStatus == "IN PROGRESS"
    broken[0] = False
    restored = mpps.MppsTable()
    restored.restore(uid, kept[uid])  # what a restarted node loads from its store
    assert restored.n_set(uid, _ds("COMPLETED"))[0] == 0x0000 and restored.state(uid) == "COMPLETED"
