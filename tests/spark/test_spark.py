"""`interop translate --engine spark` and `interop.spark` on Apache Spark (`local[2]`): the same codecs and
mappings as the single-process CLI, one NDJSON file per partition, failures summarised per input.

Needs pyspark (the `test` extra) and Java 17+ (`.ci/run` installs Debian's openjdk-17-jre-headless): missing,
these tests fail with what to install, never skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VITALS = ROOT / "examples" / "hl7v2" / "pcd01-vitals.hl7"
sys.path.insert(0, str(ROOT / "examples" / "hl7v2"))
from feed import feed  # noqa: E402

COUNTS = (1, 3, 4, 8) * 125  # 500 files, 2,000 messages


def _require_spark() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        pytest.fail('pyspark is not installed: pip install -e ".[test]" (or ".[spark]")', pytrace=False)
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.fail("Java is not installed: apt-get install -y openjdk-17-jre-headless (.ci/run does)",
                    pytrace=False)


def _frame(messages: list[bytes], style: int) -> bytes:
    """Four ways device archives hold several messages: CR-joined, a batch, an MLLP capture, LF lines."""
    if style == 0:
        return b"\r".join(messages) + b"\r"
    if style == 1:
        return (b"FHS|^~\\&|GW\rBHS|^~\\&|GW\r" + b"\r".join(messages)
                + f"\rBTS|{len(messages)}\rFTS|1\r".encode())
    if style == 2:
        return b"".join(b"\x0b" + m + b"\x1c\r" for m in messages)
    return b"\n".join(m.replace(b"\r", b"\n") for m in messages) + b"\n"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """500 files holding 2,000 messages in sub-folders, plus one bad batch; returns (folder, bad file bytes)."""
    folder = tmp_path_factory.mktemp("archive")
    messages = feed(VITALS.read_bytes(), sum(COUNTS))
    at = 0
    for i, count in enumerate(COUNTS):
        sub = folder / f"day{i % 7}"
        sub.mkdir(exist_ok=True)
        (sub / f"capture{i:03d}.hl7").write_bytes(_frame(messages[at:at + count], i % 4))
        at += count
    bad = messages[0].replace(b"MSH|^~\\&|", b"MSH|^~^&|") + b"\r" + messages[1].replace(b"MSH|^~\\&|", b"MSH|^~^&|")
    (folder / "bad-batch.hl7").write_bytes(bad)
    (folder / "README.md").write_bytes(b"# not device data: left out like interop translate leaves it out\n")
    return folder, bad


def test_cli_translates_an_archive_on_local_2(archive: tuple[Path, bytes], tmp_path: Path) -> None:
    _require_spark()
    folder, bad = archive
    out = tmp_path / "fhir"
    r = subprocess.run([sys.executable, "-m", "interop.cli.main", "translate", str(folder), "-o", str(out),
                        "--engine", "spark", "--master", "local[2]", "--partitions", "3"],
                       capture_output=True, timeout=300, cwd=ROOT)
    err = r.stderr.decode()
    assert r.returncode == 2, err  # the bad batch fails; everything else is written
    parts = sorted(p.name for p in out.iterdir() if p.name.startswith("part-"))
    assert parts == ["part-00000.ndjson", "part-00001.ndjson", "part-00002.ndjson"]  # one per partition
    bundles = [json.loads(line) for p in parts for line in (out / p).read_bytes().splitlines()]
    assert len(bundles) == 2000
    assert all(b["resourceType"] == "Bundle" and len(b["entry"]) == 27 for b in bundles)  # 4 channels from OBX-4 (PoCD)
    assert len({b["id"] for b in bundles}) == 2000  # every message once, none twice
    # the per-input summary: what failed, where (offsets into the whole file)
    second = bad.index(b"MSH", 1)
    lines = [line for line in err.splitlines() if "bad-batch.hl7" in line]
    assert lines == [
        f"file:{folder}/bad-batch.hl7: message 1, MSH-2 (byte 4): hl7v2 decode error: encoding characters '^~^&' "
        "repeat a delimiter; expected 5 distinct delimiter characters",
        f"file:{folder}/bad-batch.hl7: message 2, MSH-2 (byte {second + 4}): hl7v2 decode error: encoding "
        "characters '^~^&' repeat a delimiter; expected 5 distinct delimiter characters",
        f"file:{folder}/bad-batch.hl7: 2 of 2 messages failed",
    ]
    assert "2,000 of 2,002 messages translated" in err and "failures in 1 input" in err
    errors = [json.loads(line) for p in (out / "_errors").glob("part-*.json") for line in p.read_bytes().splitlines()]
    assert sorted((e["message_index"], e["offset"]) for e in errors) == [(1, 0), (2, second)]
    assert "Traceback" not in err


def test_dataframe_functions_run_the_cli_codecs(archive: tuple[Path, bytes]) -> None:
    """read_messages → translate → error_summary, and bundle_json over any binary column: the Bundles
    are byte for byte what `interop.to_fhir(interop.decode(...)).json()` makes."""
    _require_spark()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    from interop import decode, spark, to_fhir

    builder = SparkSession.builder.master("local[2]").appName("interop-tests")
    for key, value in spark.SESSION_CONFIG.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    try:
        folder, bad = archive
        raw = spark.read_messages(session, [str(folder / "day3"), str(folder / "bad-batch.hl7")])
        assert raw.columns == ["path", "message_index", "offset", "message_count", "raw"]
        out = spark.translate(raw)
        rows = out.orderBy("path", "message_index").collect()
        day3 = [r for r in rows if "/day3/" in r.path]
        assert len(day3) == sum(c for i, c in enumerate(COUNTS) if i % 7 == 3)
        first = day3[0]
        assert first.message_index == 1 and first.offset == 0 and first.error is None
        assert first.bundle.encode() == to_fhir(decode(bytes(first.raw))).json()
        summary = spark.error_summary(out).collect()
        assert [(s.path.rsplit("/", 1)[1], s.messages, s.failed) for s in summary] == [("bad-batch.hl7", 2, 2)]
        assert all("MSH-2" in line for line in summary[0].errors)
        # any DataFrame with a column of raw bytes: column in, column out
        df = session.createDataFrame([(VITALS.read_bytes(),), (b"not a message",)], "raw binary")
        got = df.select(spark.bundle_json("raw").alias("b"), spark.issues_of("raw").alias("i")).collect()
        assert got[0].b.encode() == to_fhir(decode(VITALS.read_bytes())).json() and got[0].i == []
        assert got[1].b is None
    finally:
        session.stop()
