"""Dossier imports and exports in the formats labs and regulators already use."""
