"""MLLP (Minimal Lower Layer Protocol) for HL7 v2: `interop serve mllp` and `interop send`.

Layers, top-down like pynetdicom's: `framing` (the <SB> … <EB><CR> block) → `fsm` (the session
state machine, TRANSITION_TABLE) → `ack` (HL7 v2 acknowledgements, original and enhanced mode) →
`receiver` (reads MSH, decides AA/AE/AR, hands accepted messages to the store-and-forward engine) →
`server` (asyncio sessions, limits, TLS, allow-list) and `client`; `service` wires a server, the
durable store, the engine and the sinks together. Importing this package is cheap.
"""
