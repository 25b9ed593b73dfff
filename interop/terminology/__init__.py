"""Terminology tables as data: MDC terms and units (`mdc`), HL7 v2 tables (`v2tables`), measurement status (`status`)."""
