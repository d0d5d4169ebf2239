"""Reads for training, scoped by the caller's grants; one module per area."""
