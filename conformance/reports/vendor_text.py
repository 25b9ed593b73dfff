"""The vendor section of the terminal report."""

from __future__ import annotations


def print_vendor(vendor, console) -> None:  # noqa: ANN001
    from rich.table import Table

    cap = vendor.capability
    table = Table(title=f"vendor: {cap.vendor} {cap.product} {cap.product_version or ''}".rstrip(),
                  title_justify="left")
    for col in ("aspect", "claimed, not exercised", "exercised, not claimed"):
        table.add_column(col)
    for aspect in ("standards", "versions", "message_types", "devices", "mdc_codes", "units"):
        row = vendor.aspect(aspect)
        table.add_row(aspect, ", ".join(row["claimed_not_exercised"]) or "-",
                      ", ".join(row["exercised_not_claimed"]) or "-")
    console.print(table)
