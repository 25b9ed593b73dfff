"""Bluetooth GATT health characteristics (little-endian) decoded into the canonical model.

Read top-down: `medfloat` (SFLOAT/FLOAT numbers) → `layouts` (construct declarations, one per
characteristic) → `nomenclature` (MDC codes and units) → `characteristics` (values → metrics)
→ `textfile` (the input text format) → `codec` (`GattCodec`, registered as "bluetooth-gatt").
"""
