"""Option value types shared by the command modules."""

from __future__ import annotations

from enum import StrEnum


class FhirVersion(StrEnum):
    """FHIR release of the emitted Bundles."""

    R4 = "R4"
    R5 = "R5"


class BundleType(StrEnum):
    """Bundle.type of the emitted Bundles ('transaction' uses conditional creates on identifiers)."""

    transaction = "transaction"
    collection = "collection"
