"""Procedural synthesisers for the lite effects engine, one module per family of physical sound models."""
