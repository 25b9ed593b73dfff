"""pytest plugin (entry point `pytest11`): each input × assertion of a conformance run is a test item.

    pytest --interop-conformance vendor-tests/ --interop-profile ihe-pcd-01 [--junitxml out.xml] [-k OBX]

Items are collected from the files under DIR (pytest's own collection walk, as for test modules),
one per message × assertion, named `<assertion id>` inside the file's node (`msg.hl7::PCD01-OBX-018`,
`batch.hl7::#2::PCD01-OBX-018` for the second message of a file); an error finding fails the item,
warnings and info are attached as report sections and JUnit properties. pytest's machinery gives
JUnit XML, -k/-m selection, -x, xdist. Without --interop-conformance this plugin adds two options
and nothing else: no import of the suite, no change to collection.
"""

from __future__ import annotations

from pathlib import Path

import pytest

OPTION = "interop_conformance"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("interop-conformance", "iomt-interop conformance suite")
    group.addoption("--interop-conformance", metavar="DIR", dest=OPTION, default=None,
                    help="run the conformance suite on the files under DIR (each input x assertion is a test)")
    group.addoption("--interop-profile", metavar="P", dest="interop_profile", default="auto",
                    help="conformance profile name or HL7 v2 XML profile file (default: auto)")


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """Make DIR a collection root when it is not given as a path already (and so not testpaths)."""
    ns = getattr(early_config, "known_args_namespace", None)
    target = getattr(ns, OPTION, None) if ns is not None else None
    if not target:
        return
    given = getattr(ns, "file_or_dir", None) or []
    if not any(Path(a.split("::")[0]).resolve() == Path(target).resolve() for a in given):
        args.append(target)


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    target = parent.config.getoption(OPTION, None)
    if not target:
        return None
    root = Path(target).resolve()
    path = file_path.resolve()
    if root != path and root not in path.parents:
        return None
    from .runner import SKIP_SUFFIXES

    if path.name.startswith(".") or path.suffix.lower() in SKIP_SUFFIXES or path.name == "conftest.py":
        return None
    return ConformanceFile.from_parent(parent, path=file_path)


def _selection(config: pytest.Config):
    sel = getattr(config, "_interop_selection", None)
    if sel is None:
        from .profiles import select

        sel = select(config.getoption("interop_profile"))
        config._interop_selection = sel  # type: ignore[attr-defined]
    return sel


class ConformanceFile(pytest.File):
    """One input file: one item per message × assertion."""

    def collect(self):
        from .catalogue import kinds
        from .profiles import assertions_for, auto_profile
        from .runner import _kind_for

        sel = _selection(self.config)
        data = self.path.read_bytes()
        kind = _kind_for(data, sel)
        contexts = kind.contexts(data, str(self.path), sel.user_profile)
        for n, ctx in enumerate(contexts, 1):
            rows = sel.assertions
            if sel.auto:
                name = auto_profile(kind, ctx)
                rows = assertions_for(name) if name else sel.assertions
            prefix = f"#{n}::" if len(contexts) > 1 else ""
            rows = [a for a in rows if a.input == kinds()[kind.name].name]
            if ctx.fatal:  # undecodable: only the assertion that reports it (the decoding one) is an item
                from .runner import check_context

                findings, _ = check_context(ctx, rows)
                ids = {f.assertion for f in findings}
                rows = [a for a in rows if a.id in ids][:1] or rows[:1]
            for a in rows:
                yield ConformanceItem.from_parent(self, name=f"{prefix}{a.id}", assertion=a, ctx=ctx)


class ConformanceFailure(Exception):
    pass


class ConformanceItem(pytest.Item):
    def __init__(self, *, assertion, ctx, **kw) -> None:
        super().__init__(**kw)
        self.assertion = assertion
        self.ctx = ctx
        self.add_marker(pytest.mark.conformance)
        self.add_marker(getattr(pytest.mark, assertion.severity))

    def runtest(self) -> None:
        from .runner import check_context

        findings, _ = check_context(self.ctx, [self.assertion])
        for f in findings:
            self.user_properties.append((f.severity, f"{f.location}: {f.message}"))
        others = [f for f in findings if f.severity != "error"]
        if others:
            self.add_report_section("call", "findings", "\n".join(
                f"{f.severity}: {f.location}: {f.message}" for f in others))
        errors = [f for f in findings if f.severity == "error"]
        if errors:
            raise ConformanceFailure(errors)

    def repr_failure(self, excinfo, style=None):  # noqa: ANN001
        if isinstance(excinfo.value, ConformanceFailure):
            a = self.assertion
            lines = [f"{a.id} ({a.severity}): {a.summary}", f"  reference: {a.reference}"]
            lines += [f"  {f.location}: {f.message}" for f in excinfo.value.args[0]]
            return "\n".join(lines)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, None, f"{self.name}: {self.assertion.summary}"


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption(OPTION, None):
        for m in ("conformance", "error", "warning", "info"):
            config.addinivalue_line("markers", f"{m}: interop conformance item ({m})")
