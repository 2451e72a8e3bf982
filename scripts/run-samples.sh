#!/usr/bin/env bash
# The main job on samples/ (`make run`): ingest every sample into the SQLite store through the
# Prefect batch flow (Prefect's local ephemeral API: nothing to start by hand), then write the
# exports and the audit into outputs/.
set -euo pipefail
cd "$(dirname "$0")/.."
export PREFECT_SERVER_ANALYTICS_ENABLED=${PREFECT_SERVER_ANALYTICS_ENABLED:-false}
DB=${PIPELINE_DB_URL:-sqlite:///outputs/reports.db}
mkdir -p outputs
.venv/bin/pipeline ingest samples/ --db "$DB"
.venv/bin/pipeline export --format json --out outputs/json --db "$DB"
.venv/bin/pipeline export --format xlsx --out outputs/export --db "$DB"
.venv/bin/pipeline export --format csv --out outputs/export --db "$DB"
.venv/bin/pipeline audit --db "$DB" --out outputs/audit
echo
echo "Failing checks:"
.venv/bin/pipeline query failing --db "$DB"
echo
echo "Store: ${DB}; JSON per report: outputs/json/; Excel/CSV: outputs/export/; audit: outputs/audit/index.html"
echo "Browse the store: .venv/bin/pipeline browse --db ${DB}  (http://127.0.0.1:8001/)"
