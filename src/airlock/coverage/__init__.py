"""Coverage: the models known to exist from public registries, set against what was shared.

A registry of known models (Epoch AI's datasets, CC BY 4.0, or a file with similar columns) is
imported, linked to the models firms registered, and counted by compute threshold and quarter:
known, shared, not shared, and models with no compute figure, as ranges where the figures
are uncertain.
"""
