"""Publication: what leaves the review workspace (transparency reports, advisories), with
small-cell suppression audited so that nothing withheld can be worked out."""
