"""`interop translate`: decode inputs and write FHIR (or canonical JSON), each output as soon as it is made.

The typer signature (options, --help) lives here; the work is in `translation` (shared with the
start-up fast path `fast`, which reads the same options without building the typer application).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from interop.cli.options import BundleType


class Source(StrEnum):
    auto = "auto"
    hl7v2 = "hl7v2"
    ieee11073 = "ieee11073"
    gatt = "bluetooth-gatt"
    dicom = "dicom"


class Target(StrEnum):
    fhir_r4 = "fhir-r4"
    fhir_r5 = "fhir-r5"
    canonical = "canonical"
    hl7v2 = "hl7v2"


QUIRKS_HELP = ("HL7 v2 quirk profile (repeatable): a shipped name (bbraun-intellibridge, continua-wan, "
               "legacy-lab, philips-intellivue, default) or a .toml file: the deviations a sender is known for and "
               "what to do with each (accept, warn, reject). Default: the profile whose MSH-3/4/21 patterns match, "
               "else 'default'. Every deviation tolerated is reported with the quirk's name.")


class Engine(StrEnum):
    local = "local"
    spark = "spark"


def translate(
    paths: Annotated[list[str], typer.Argument(help="Files, directories or globs to translate; '-' reads standard "
                                               "input.",
                                               metavar="PATH...")],
    source: Annotated[Source, typer.Option("--from", help="Input standard; 'auto' detects it from the content.")]
    = Source.auto,
    to: Annotated[Target, typer.Option("--to", help="Output: FHIR R4 or R5 Bundle, or the canonical model as JSON.")]
    = Target.fhir_r4,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Output: a file (NDJSON, one document "
                                                "per message), or a directory (one file per message; needed "
                                                "for several inputs unless FILE ends in .ndjson).")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Fail at the first deviation from the standard instead "
                                         "of recording it and going on.")] = False,
    bundle: Annotated[BundleType, typer.Option("--bundle", help="FHIR Bundle type; 'transaction' uses "
                                               "conditional creates on identifiers.")] = BundleType.collection,
    validate: Annotated[bool, typer.Option("--validate", help="Validate every emitted resource with the "
                                           "fhir.resources models (slower); exit 1 on failure.")] = False,
    report: Annotated[bool, typer.Option("--report", help="Print what was tolerated, not placed or not "
                                         "expressible (with positions) on stderr.")] = False,
    assume_tz: Annotated[str | None, typer.Option("--assume-tz", help="UTC offset for times that carry none "
                                                  "(e.g. +02:00); default: the sender's, else UTC.")] = None,
    pretty: Annotated[bool, typer.Option("--pretty", help="Indent the JSON output (for reading; the output of "
                                         "an input of several messages is then no longer one per line).")] = False,
    patient: Annotated[list[str] | None, typer.Option("--patient", help="Logical Patient id for personal "
                                                      "health device data that names no patient; USER=ID per "
                                                      "user of a multi-user device (repeatable).")] = None,
    engine: Annotated[Engine, typer.Option("--engine", help="'spark': run on Apache Spark (pip install "
                                           "'iomt-interop[spark]'); one NDJSON file per partition in -o DIR and "
                                           "the failed messages in DIR/_errors.")] = Engine.local,
    master: Annotated[str | None, typer.Option("--master", help="Spark master URL (spark://host:7077, yarn, "
                                               "k8s://...); default local[*], every core of this machine.")]
    = None,
    partitions: Annotated[int | None, typer.Option("--partitions", min=1, help="Spark: spread the messages "
                                                   "over this many partitions (output files).")] = None,
    quirks: Annotated[list[str] | None, typer.Option("--quirks", help=QUIRKS_HELP)] = None,
) -> None:
    """Translate device messages into FHIR R4/R5 Bundles (or the canonical model).

    Each output is written as soon as its message is translated, so an input of any size (a batch
    file, an MLLP capture, standard input) is read and written in a stream, in flat memory.

    One input prints one JSON document per message on stdout, one per line (NDJSON), or writes them
    to -o FILE. Several inputs, a directory or a glob need -o DIR (one file per input: name.fhir.json,
    or name.1.fhir.json, name.2.fhir.json ... for an input of several messages) or -o FILE.ndjson
    (every Bundle of every input, one per line); a progress bar and a summary go to stderr.

    --engine spark runs the same translation on Apache Spark (-o DIR gets one NDJSON file per
    partition; failed messages are listed per input on stderr and in DIR/_errors).

    Exit status: 0 all translated; 1 --validate found invalid output; 2 bad input or usage
    (one line per problem on stderr, naming the file and the position).

    Examples:

      interop translate examples/hl7v2/pcd01-vitals.hl7 --pretty

      interop translate examples/ --to fhir-r5 -o out/

      cat capture.hl7 | interop translate - -o capture.ndjson

      interop translate 'archive/**/*.hl7' -o fhir/ --engine spark --master spark://head:7077
    """
    from interop.cli.translation import Options, run

    code = run(paths, Options(source=source.value, to=to.value, output=output, strict=strict, bundle=bundle.value,
                              validate=validate, report=report, assume_tz=assume_tz, pretty=pretty,
                              patient=patient, engine=engine.value, master=master, partitions=partitions,
                              quirks=quirks))
    raise typer.Exit(code)


def register(app: typer.Typer, serve_app: typer.Typer, simulate_app: typer.Typer) -> None:
    app.command("translate")(translate)
