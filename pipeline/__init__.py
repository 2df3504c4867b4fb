"""WAVE's pipeline: image -> sound sheet -> effects -> sessions -> instruments -> render -> mix.

A plain library: no chat, queue or database imports. Each stage takes typed inputs and returns typed outputs plus
files, and is deterministic for a given seed.
"""
