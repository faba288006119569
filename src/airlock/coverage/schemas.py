"""What the coverage stage shows: the public coverage table and the agency's lists."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class ThresholdCoverageOut(BaseModel):
    """Known models at one compute threshold and, unless withheld, how many were shared."""

    threshold_flop: float = Field(description="The threshold, in FLOP (10^23, 10^25, 10^26).")
    label: str
    known: int = Field(description="Models whose stated training compute reaches the threshold.")
    known_low: int = Field(description="Models surely above it, given the data's confidence.")
    known_high: int = Field(description="Models possibly above it, given the data's confidence.")
    shared: int | None = Field(description="Of `known`, how many were shared; null if withheld.")
    not_shared: int | None = Field(description="Of `known`, how many were not; null if withheld.")


class QuarterCoverageOut(BaseModel):
    """Known models released in one quarter, by threshold (public data only)."""

    quarter: str
    known_by_threshold: dict[str, int]
    no_compute_figure: int


class SourceOut(BaseModel):
    """A registry import the figures rest on, with its credit line."""

    model_config = ConfigDict(from_attributes=True)

    source: str
    file_name: str
    sha256: str
    credit: str
    imported_at: datetime
    records: int


class PublicCoverageOut(BaseModel):
    """The program's coverage of known AI models, as published."""

    models: int
    no_compute_figure: int
    thresholds: list[ThresholdCoverageOut]
    quarters: list[QuarterCoverageOut] = Field(
        description="From the first quarter with a model at the lowest threshold onwards."
    )
    earlier_quarters: int = Field(description="Quarters before those, none reaching a threshold.")
    earlier_no_compute_figure: int = Field(description="Models of those quarters with no figure.")
    min_cell: int = Field(description="Counts of shared models below this are withheld.")
    spread: dict[str, float] = Field(
        description="How far, as a factor either way, a figure of each confidence is read to go."
    )
    sources: list[SourceOut]


class KnownModelOut(BaseModel):
    """A known model as the agency sees it (public registry data)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    organisation: str
    published_on: date | None
    training_flop: float | None
    training_flop_estimated: bool
    confidence: str
    accessibility: str
    source: str
    source_row: int
    link: str


class LinkIn(BaseModel):
    """Link a known model to a model registered in the program."""

    model_id: str = Field(min_length=1, max_length=32)
