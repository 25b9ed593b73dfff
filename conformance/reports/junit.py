"""JUnit XML: one test suite per input, one test case per assertion evaluated on it.

An assertion with an error finding is a <failure>, with only warnings/info a passing case that
carries them in <system-out>; CI servers (Jenkins, GitLab, GitHub annotations) read this format.
"""

from __future__ import annotations

from xml.etree import ElementTree as ET


def render(report) -> str:  # noqa: ANN001
    suites = ET.Element("testsuites", name=f"interop conformance ({report.profile})")
    total = failures = 0
    for res in report.results:
        by_id: dict[str, list] = {}
        for f in res.findings:
            by_id.setdefault(f.assertion, []).append(f)
        cases = [a for a in report.assertions if a.input == res.kind]
        suite = ET.SubElement(suites, "testsuite", name=res.input, tests=str(len(cases)))
        n_fail = 0
        for a in cases:
            tc = ET.SubElement(suite, "testcase", classname=res.input, name=f"{a.id} {a.summary}")
            found = by_id.pop(a.id, [])
            errors = [f for f in found if f.severity == "error"]
            if errors:
                n_fail += 1
                fail = ET.SubElement(tc, "failure", message=f"{len(errors)} error(s): {errors[0].message}",
                                     type=a.id)
                fail.text = "\n".join(f"{f.location}: {f.message} [{f.reference}]" for f in errors)
            others = [f for f in found if f.severity != "error"]
            if others:
                ET.SubElement(tc, "system-out").text = "\n".join(
                    f"{f.severity}: {f.location}: {f.message} [{f.reference}]" for f in others)
        for aid, found in by_id.items():  # findings of no catalogue row (an unreadable file)
            tc = ET.SubElement(suite, "testcase", classname=res.input, name=aid)
            n_fail += 1
            ET.SubElement(tc, "failure", message=found[0].message, type=aid)
        suite.set("failures", str(n_fail))
        total += len(cases)
        failures += n_fail
    if report.vendor is not None:
        suite = ET.SubElement(suites, "testsuite", name="vendor capability statement")
        n = 0
        for f in report.vendor.findings:
            tc = ET.SubElement(suite, "testcase", classname="vendor", name=f"{f.assertion} {f.location}")
            n += 1
            if f.severity == "error":
                ET.SubElement(tc, "failure", message=f.message, type=f.assertion)
                failures += 1
            else:
                ET.SubElement(tc, "system-out").text = f"{f.severity}: {f.message}"
        suite.set("tests", str(n))
        total += n
    suites.set("tests", str(total))
    suites.set("failures", str(failures))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
