"""Shapes of the public site's JSON under /api/v1/public/ (no sign-in)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class TableRowOut(BaseModel):
    row: str
    cells: list[int | None] = Field(description="One value per column; null where withheld.")
    total: int | None = Field(description="The row's total; null where withheld or not given.")


class TableOut(BaseModel):
    name: str
    title: str
    columns: list[str]
    rows: list[TableRowOut]
    totals: list[int | None] | None = Field(
        description="Column totals (then the grand total when rows have totals); null if none."
    )
    row_totals: bool


class ResponseTimeOut(BaseModel):
    findings: int | None = Field(description="How many findings the times describe.")
    median_hours: float | None
    p90_hours: float | None = Field(description="90th percentile.")


class ReportSummaryOut(BaseModel):
    period: str
    version: int
    published_at: datetime
    empty: bool
    url: str


class FigureChangeOut(BaseModel):
    """A figure whose published value differs from the version before (null: withheld)."""

    figure: str
    before: int | None
    after: int | None


class ReportOut(BaseModel):
    """A published transparency report; figures counting fewer than min_cell, and those they
    could be worked out from, are null (withheld)."""

    period: str
    version: int
    start: str
    end: str = Field(description="First day after the period.")
    published_at: datetime
    change: str = Field(description="What this version corrects; empty for the first one.")
    changes: list[FigureChangeOut] = Field(
        default_factory=list,
        description="Figures whose published value differs from the previous version.",
    )
    min_cell: int
    empty: bool
    tables: list[TableOut]
    response_times: dict[str, ResponseTimeOut]
    critical_fixed_before_release_share: float | None
    withheld: int = Field(description="How many figures are withheld.")
    versions: list[int]
    sha256: str = Field(description="SHA-256 of the published content, fixed at publication.")
    csv_url: str
    pdf_url: str


class VulnerabilityOut(BaseModel):
    title: str
    severity: str
    cwe: str = ""
    description: str = ""
    remediation: str = ""
    fixed: bool = False


class AdvisorySummaryOut(BaseModel):
    tracking_id: str
    title: str
    published_at: datetime | None
    updated_at: datetime
    url: str


class AdvisoryOut(AdvisorySummaryOut):
    summary: str
    revision: int
    developer: str = Field(description="Named only where the firm agreed; else a neutral phrase.")
    model: str
    vulnerabilities: list[VulnerabilityOut]
    csaf_url: str
    avid_url: str


class ParticipationOut(BaseModel):
    period: str = Field(description="The published report the figures come from.")
    counts: dict[str, int | None] = Field(description="Firms by status; null where withheld.")


class HomeOut(BaseModel):
    """The public home page: participation, the latest reports and advisories."""

    participation: ParticipationOut | None
    named_participants: list[str] = Field(description="Firms that agreed to be named.")
    reports: list[ReportSummaryOut]
    advisories: list[AdvisorySummaryOut]
    known_models: int
    credits: list[str] = Field(
        default_factory=list, description="Credit lines of the public model data used."
    )
    feed_url: str
