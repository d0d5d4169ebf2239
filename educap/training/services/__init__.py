"""Writes for training, one module per area: catalogue, sessions (enrolment, attendance),
completion (what finishing a course does), certificates, cpd, xapi."""
