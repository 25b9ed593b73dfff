"""Package layout (see DESIGN.md, "Layout").

`codecs/`, `mappings/` and `conformance/` are top-level folders in the repository but are installed
as `interop.codecs`, `interop.mappings` and `interop.conformance` (a top-level `codecs` package would
shadow the standard library). pyproject.toml cannot express "every subpackage of this folder under
another name", so the package list is computed here; all other metadata lives in pyproject.toml.
"""

from setuptools import find_packages, setup

RENAMED = ("codecs", "mappings", "conformance")

packages = find_packages(include=["interop", "interop.*"])
package_dir = {"interop": "interop"}
for top in RENAMED:
    for pkg in find_packages(include=[top, f"{top}.*"]):
        packages.append(f"interop.{pkg}")
    package_dir[f"interop.{top}"] = top

setup(packages=packages, package_dir=package_dir)
