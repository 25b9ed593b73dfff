"""DICOM network node (pynetdicom): Storage SCP, Verification SCP, MPPS SCP feeding the FHIR pipeline.

Layers, top-down: `contexts` (what the node accepts) → `mpps` (N-CREATE/N-SET state) →
`collector` (per-study aggregation, translation, sink) → `node` (the AE, its handlers, TLS).
Importing this package is cheap; pynetdicom/pydicom load inside the modules that need them.
"""
