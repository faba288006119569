"""Findings: reviewed problems built from scan results, triaged and worked to a verified fix."""
