"""Signal-processing helpers that more than one stage uses (filters and the like).

Stage-specific processing stays with its stage; a helper moves here once a second stage needs the same thing.
"""
