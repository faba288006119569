"""`airlock dossier import` and `airlock dossier export` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from airlock.cli.main import app
from airlock.dossiers.validation import validate_dossier

from .support import CARD, bom_errors

runner = CliRunner()


def test_import_writes_a_valid_dossier_and_reports_filled_and_missing(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text(CARD)
    (tmp_path / "config.json").write_text(
        json.dumps({"model_type": "llama", "num_hidden_layers": 4})
    )
    out = tmp_path / "dossier.json"
    result = runner.invoke(app, ["dossier", "import", str(tmp_path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert validate_dossier(doc) == []
    assert doc["sections"]["C"]["layers"]["value"] == 4
    assert doc["sections"]["C"]["layers"]["source"]["pointer"] == "/num_hidden_layers"
    assert "C.layers" in result.output and "config.json#" in result.output
    assert "Still required to submit" in result.output and "B.versions" in result.output


def test_failed_import_writes_nothing_and_names_file_and_pointer(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama", "vocab_size": 0}))
    out = tmp_path / "dossier.json"
    result = runner.invoke(
        app, ["dossier", "import", str(tmp_path / "config.json"), "--out", str(out)]
    )
    assert result.exit_code == 1
    assert "config.json#/vocab_size" in result.output
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [tmp_path / "config.json"]  # no temporary file left


def test_import_will_not_overwrite_without_force(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text(CARD)
    out = tmp_path / "dossier.json"
    out.write_text("{}")
    result = runner.invoke(
        app, ["dossier", "import", str(tmp_path / "README.md"), "--out", str(out)]
    )
    assert result.exit_code == 2 and out.read_text() == "{}"
    forced = ["dossier", "import", str(tmp_path / "README.md"), "--out", str(out), "--force"]
    assert runner.invoke(app, forced).exit_code == 0
    assert json.loads(out.read_text())["schema_version"] == "1.1.0"


def test_export_cyclonedx_to_stdout_and_eu_form_pdf_to_a_file(tmp_path: Path) -> None:
    example = Path(__file__).parents[4] / "src" / "airlock" / "dossiers" / "examples" / "full.json"
    result = runner.invoke(app, ["dossier", "export", str(example), "--format", "cyclonedx"])
    assert result.exit_code == 0, result.output
    assert bom_errors(json.loads(result.stdout)) == []
    pdf = tmp_path / "form.pdf"
    args = ["dossier", "export", str(example), "-f", "eu-mdf-pdf", "--audience", "agency"]
    assert runner.invoke(app, [*args, "--out", str(pdf)]).exit_code == 0
    assert pdf.read_bytes().startswith(b"%PDF-")
    bad = runner.invoke(app, ["dossier", "export", str(example), "--format", "docx"])
    assert bad.exit_code == 1 and "format: must be one of" in bad.output


def test_export_of_a_first_version_dossier_upgrades_it(tmp_path: Path) -> None:
    old = Path(__file__).parents[1] / "fixtures" / "v1.0" / "minimal.json"
    result = runner.invoke(
        app, ["dossier", "export", str(old), "-f", "sb53", "--audience", "agency"]
    )
    assert result.exit_code == 0, result.output
    assert "Halcyon-70B" in result.stdout


def test_export_of_a_dossier_of_unknown_version_names_the_file_and_field(tmp_path: Path) -> None:
    future = tmp_path / "future.json"
    future.write_text(json.dumps({"schema_version": "2.0.0", "sections": {}}))
    result = runner.invoke(app, ["dossier", "export", str(future), "-f", "sb53"])
    assert result.exit_code == 1
    assert 'future.json: schema_version: must be "1.1.0" (got "2.0.0")' in result.output
