"""iomt-interop on Apache Spark: DataFrame in, DataFrame out, one function per step.

For archives that outgrow one machine (years of HL7 v2 batch files, 20601 traces, DICOM headers) and
for teams that already run Spark. The executors run the same codecs and mappings as `interop
translate` (`interop.decode` → `interop.translate`); nothing here reimplements a standard.

    from pyspark.sql import SparkSession
    from interop import spark as ispark

    session = SparkSession.builder.master("local[*]").getOrCreate()
    raw = ispark.read_messages(session, "archive/2024/*/*.hl7")   # path, message_index, offset, message_count, raw
    out = ispark.translate(raw)                                    # + bundle, issues, error
    out.select("bundle").where("bundle IS NOT NULL").write.text("fhir/")
    ispark.error_summary(out).show(truncate=False)                 # per input: what failed, where

Columns:
- `read_messages`: `path` (string), `message_index` (int, 1-based number of the message in its file),
  `offset` (long, byte offset of the message in its file), `message_count` (int, messages in that file),
  `raw` (binary).
  A file holding several messages (an HL7 v2 batch, an MLLP capture, messages one after another) gives one
  row per message, split by the codec that detection picked (the CLI's splitter); anything else one row.
- `translate` adds `bundle` (string: the Bundle JSON, null when the message failed), `issues`
  (array of struct severity/code/location/message: what was tolerated, not placed or not expressible)
  and `error` (string: the one line the CLI prints for a message that failed, naming file and position).
- `bundle_json(col)` / `issues_of(col)` are the same as column expressions over a column of raw bytes.

pyspark is an optional extra: `pip install "iomt-interop[spark]"` (needs Java 17+).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

ISSUE_FIELDS = ("severity", "code", "location", "message")


def _types():
    from pyspark.sql import types as T

    issue = T.StructType([T.StructField(name, T.StringType(), True) for name in ISSUE_FIELDS])
    result = T.StructType([
        T.StructField("bundle", T.StringType(), True),
        T.StructField("issues", T.ArrayType(issue), True),
        T.StructField("error", T.StringType(), True),
    ])
    message = T.ArrayType(T.StructType([
        T.StructField("message_index", T.IntegerType(), False),
        T.StructField("offset", T.LongType(), False),
        T.StructField("message_count", T.IntegerType(), False),
        T.StructField("raw", T.BinaryType(), False),
    ]))
    return issue, result, message


# ---------------------------------------------------------------------------------------------- per message
# Plain functions of bytes, run on the executors (and testable without Spark).

def split_file(path: str, data: bytes, standard: str = "auto") -> list[tuple[str, int, int, int, bytes]]:
    """(path, message index, offset, message count, raw) of each message of one file, split as `interop translate` splits it."""
    from interop.errors import InteropError
    from interop.pipeline import split_messages

    try:
        chunks = list(split_messages(data, standard))
    except InteropError:  # unrecognised or empty: one row; translating it reports the error with the file name
        chunks = [(0, data)]
    count = len(chunks)
    return [(path, n, offset, count, bytes(raw)) for n, (offset, raw) in enumerate(chunks, 1)]


def translate_bytes(raw: bytes, *, to: str = "fhir-r4", bundle_type: str = "collection", standard: str = "auto",
                    label: str | None = None, index: int = 1, offset: int = 0, count: int = 1,
                    strict: bool = False, options: dict[str, Any] | None = None,
                    ) -> tuple[str | None, list[tuple[str, str, str, str]], str | None]:
    """(Bundle JSON, issues, error line) of one message: what `interop translate` writes and reports for it.
    `options`: the mapping's options (assume_tz, patient ...); `bundle_type` is added for FHIR targets."""
    from interop.errors import DecodeError, InteropError
    from interop.pipeline import decode, translate

    options = dict(options or {})
    if to.startswith("fhir"):
        options.setdefault("bundle_type", bundle_type)
    try:
        message = decode(bytes(raw), standard, strict=strict, label=label)
        result = translate(message, to, **options)
        body = result.json()
    except DecodeError as exc:
        if count > 1:  # positioned in the whole file, as the CLI does for a batch
            exc.position = f"message {index}, {exc.position}" if exc.position else f"message {index}"
            exc.offset = offset + exc.offset if exc.offset is not None else offset
        return None, [], _with_label(str(exc), label)
    except InteropError as exc:
        where = f"{label}: message {index}" if count > 1 and label else label
        return None, [], _with_label(str(exc), where)
    except Exception as exc:  # noqa: BLE001 - a codec bug is reported per message; the job goes on
        where = f"{label}: message {index}" if count > 1 and label else (label or "input")
        return None, [], f"{where}: internal error while translating: {type(exc).__name__}: {exc}"
    found = list(message.issues) + [i for i in getattr(result, "issues", ()) if i not in message.issues]
    return body.decode("utf-8"), [(i.severity, i.code, i.location, i.message) for i in found], None


def _with_label(text: str, label: str | None) -> str:
    if not label or text.startswith(label):
        return text
    return f"{label}: {text}"


# ---------------------------------------------------------------------------------------------- DataFrames

def read_messages(spark: SparkSession, paths: str | Iterable[str], *, standard: str = "auto",
                  recursive: bool = True, partitions: int | None = None) -> DataFrame:
    """A DataFrame of (path, message_index, offset, message_count, raw): every message of the files at `paths` (files,
    directories, globs; any filesystem Spark reads: local, HDFS, S3 ...).

    Directories are walked recursively (`recursive=False`: top level only); documentation and code
    files (.md, .py, .json ...) that sit beside the data are left out, as `interop translate` does.
    `partitions`: how many partitions to spread the messages over (default: Spark's own choice by file).
    """
    import warnings

    from pyspark.sql import functions as F

    from interop.cli.inputs import SKIP_SUFFIXES

    warnings.filterwarnings("ignore", message="Arrow optimization failed", category=RuntimeWarning)
    warnings.filterwarnings("ignore", message="Cannot infer the eval type", category=UserWarning)

    _, _, schema = _types()  # (index, offset, count, raw) of each message of a file
    locations = [paths] if isinstance(paths, str) else list(paths)
    reader = spark.read.format("binaryFile")
    if recursive:
        reader = reader.option("recursiveFileLookup", "true")
    files = reader.load(locations)
    lower = F.lower(F.col("path"))
    for suffix in sorted(SKIP_SUFFIXES):
        files = files.where(~lower.endswith(suffix))
    files = files.where(~F.element_at(F.split(F.col("path"), "/"), -1).startswith("."))
    chosen = standard

    def split(path: str, content: bytes) -> list[tuple[int, int, int, bytes]]:
        return [row[1:] for row in split_file(path, bytes(content), chosen)]

    split_udf = F.udf(split, schema).asNondeterministic()  # evaluated once per file (see _translate_udf)
    messages = files.select("path", F.explode(split_udf("path", "content")).alias("m"))
    messages = messages.select("path", "m.message_index", "m.offset", "m.message_count", "m.raw")
    return messages.repartition(partitions) if partitions else messages


def translate(df: DataFrame, *, raw: str = "raw", to: str = "fhir-r4", bundle_type: str = "collection",
              standard: str = "auto", path: str | None = "path", strict: bool = False,
              options: dict[str, Any] | None = None) -> DataFrame:
    """`df` with `bundle`, `issues` and `error` columns added: each row's `raw` message translated by the
    same codec and mapping `interop translate` uses. With the columns of `read_messages` (path,
    message_index, offset, message_count), errors name the file and the message's position in it; any other DataFrame with a
    binary column works too (`path=None` when it has no file names)."""
    from pyspark.sql import functions as F

    columns = set(df.columns)
    extra = [c for c in ("message_index", "offset", "message_count") if c in columns]
    label_col = [path] if path and path in columns else []
    udf = _translate_udf(to, bundle_type, standard, bool(label_col), extra, strict, options)
    result = udf(F.col(raw), *[F.col(c) for c in label_col + extra])
    return (df.withColumn("_interop", result)
              .withColumn("bundle", F.col("_interop.bundle"))
              .withColumn("issues", F.col("_interop.issues"))
              .withColumn("error", F.col("_interop.error"))
              .drop("_interop"))


def bundle_json(raw: Column | str, *, to: str = "fhir-r4", bundle_type: str = "collection",
                standard: str = "auto") -> Column:
    """A column of Bundle JSON (null where the message failed) from a column of raw message bytes."""
    return _translate_udf(to, bundle_type, standard, False, [])(_col(raw)).getField("bundle")


def issues_of(raw: Column | str, *, to: str = "fhir-r4", bundle_type: str = "collection",
              standard: str = "auto") -> Column:
    """A column of the findings (severity, code, location, message) of translating a column of raw bytes."""
    return _translate_udf(to, bundle_type, standard, False, [])(_col(raw)).getField("issues")


def error_summary(translated: DataFrame, *, path: str = "path") -> DataFrame:
    """Per input with at least one failed message: `path`, `messages`, `failed`, and `errors` (the error
    lines, in message order): what failed and where."""
    from pyspark.sql import functions as F

    columns = set(translated.columns)
    order = F.col("message_index") if "message_index" in columns else F.lit(0)
    failed = F.col("error").isNotNull()
    if "message_count" in columns:  # read_messages says how many messages each file held: group the failures only
        grouped = translated.where(failed).groupBy(path).agg(
            F.first("message_count").alias("messages"), F.count(F.lit(1)).cast("int").alias("failed"),
            F.sort_array(F.collect_list(F.struct(order, F.col("error")))).alias("_errors"))
    else:
        grouped = translated.groupBy(path).agg(
            F.count(F.lit(1)).cast("int").alias("messages"),
            F.sum(F.when(failed, 1).otherwise(0)).cast("int").alias("failed"),
            F.sort_array(F.collect_list(F.when(failed, F.struct(order, F.col("error"))))).alias("_errors"))
    return (grouped.where(F.col("failed") > 0)
                   .withColumn("errors", F.transform("_errors", lambda s: s.getField("error")))
                   .drop("_errors")
                   .orderBy(path))


def _col(c: Column | str) -> Column:
    from pyspark.sql import functions as F

    return F.col(c) if isinstance(c, str) else c


def _translate_udf(to: str, bundle_type: str, standard: str, labelled: bool, extra: list[str],
                   strict: bool = False, options: dict[str, Any] | None = None):
    import warnings

    from pyspark.sql import functions as F

    # plain Python UDFs on purpose: Arrow would need pandas and pyarrow for rows that are one message each
    warnings.filterwarnings("ignore", message="Arrow optimization failed", category=RuntimeWarning)
    warnings.filterwarnings("ignore", message="Cannot infer the eval type", category=UserWarning)

    _, result_type, _ = _types()

    def run(raw: bytes | None, *args: Any) -> tuple[str | None, list, str | None]:
        if raw is None:
            return None, [], "no message bytes (null)"
        label = args[0] if labelled else None
        more = dict(zip(extra, args[1:] if labelled else args, strict=True))
        return translate_bytes(raw, to=to, bundle_type=bundle_type, standard=standard, label=label,
                               index=more.get("message_index") or 1, offset=more.get("offset") or 0,
                               count=more.get("message_count") or 1, strict=strict, options=options)

    # non-deterministic for the optimizer: otherwise it copies the call into every expression that reads a
    # field of its result (bundle, issues, error, a filter on error), translating each message several times
    return F.udf(run, result_type).asNondeterministic()


# ---------------------------------------------------------------------------------------------- the CLI engine

def run_translate(paths: list[str], output: str, *, master: str | None = None, to: str = "fhir-r4",
                  bundle_type: str = "collection", standard: str = "auto", partitions: int | None = None,
                  strict: bool = False, options: dict[str, Any] | None = None,
                  app_name: str = "interop translate") -> tuple[int, int, list[tuple[str, int, int, list[str]]]]:
    """`interop translate ... --engine spark`: one NDJSON file of Bundles per partition in `output`
    (part-NNNNN.ndjson on a local path; Spark's part files elsewhere), and the failed messages in
    `output/_errors` (JSON lines: path, message_index, offset, error). Returns (messages, bundles, summary) where
    summary has one (path, messages, failed, error lines) per input with failures."""
    import os
    import sys

    from pyspark import StorageLevel
    from pyspark.sql import SparkSession

    master = master or "local[*]"
    if master.startswith("local"):  # the executors are this machine's: this interpreter, with iomt-interop
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # a local run listens on this machine only
    builder = SparkSession.builder.appName(app_name).master(master)
    for key, value in SESSION_CONFIG.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    try:
        raw = read_messages(spark, paths, standard=standard, partitions=partitions)
        out = translate(raw, to=to, bundle_type=bundle_type, standard=standard, strict=strict, options=options)
        out = out.drop("raw").persist(StorageLevel.MEMORY_AND_DISK)  # translated once, read by every output
        out.where("bundle IS NOT NULL").select("bundle").write.mode("overwrite").text(output)
        out.where("error IS NOT NULL").select("path", "message_index", "offset", "error") \
            .coalesce(1).write.mode("overwrite").json(_join(output, "_errors"))
        counts = out.selectExpr("count(1) AS messages", "count(bundle) AS bundles").collect()[0]
        summary = [(r["path"], r["messages"], r["failed"], list(r["errors"])) for r in error_summary(out).collect()]
        out.unpersist()
    finally:
        spark.stop()
    _name_parts(output)
    return counts["messages"], counts["bundles"], summary


# Spark settings of a CLI run: quiet (stderr is for the per-input error summary), no web UI
SESSION_CONFIG = {
    "spark.log.level": "ERROR",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}


def _join(base: str, name: str) -> str:
    return base.rstrip("/") + "/" + name


def _name_parts(output: str) -> None:
    """On a local output folder, Spark's part-NNNNN-<uuid>.txt become part-NNNNN.ndjson (what they hold)."""
    import os
    import re

    if "://" in output and not output.startswith("file://"):
        return
    folder = output[len("file://"):] if output.startswith("file://") else output
    if not os.path.isdir(folder):
        return
    for name in os.listdir(folder):
        match = re.fullmatch(r"(part-\d+)-.*\.txt", name)
        if match:
            os.replace(os.path.join(folder, name), os.path.join(folder, match.group(1) + ".ndjson"))
        elif name.startswith(".part-") and name.endswith(".crc"):
            os.remove(os.path.join(folder, name))
