"""Publishing: what leaves the review workspace (advisories, the transparency report)."""
