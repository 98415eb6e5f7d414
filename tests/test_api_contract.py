"""Schemathesis fuzzes the live API from its own OpenAPI document (bounded examples).

Checks: no server errors, authentication is never ignored, and data that breaks the
document's schemas is rejected with a 4xx.
"""

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import require_or_skip
from tracore import accounts

CHECKS = "not_a_server_error,ignored_auth,negative_data_rejection"


def test_schemathesis_finds_no_contract_violation(live_app, live_url, stub, tmp_path):
    cli = Path(sys.executable).with_name("schemathesis")
    require_or_skip(cli.exists() or bool(shutil.which("schemathesis")),
                    "schemathesis is not installed (pip install -e '.[test]')")
    stub.accept("sk-contract-good-key-0001")
    with live_app.app_context():
        user = accounts.create_user("fuzz@example.com", "correct horse battery")
        token = accounts.create_token(user, "schemathesis")[1]
    result = subprocess.run(
        [str(cli if cli.exists() else shutil.which("schemathesis")), "run",
         f"{live_url}/api/v1/openapi.json",
         "--checks", CHECKS,
         "--header", f"Authorization: Bearer {token}",
         "--max-examples", "25",
         "--seed", "20261204",
         "--request-timeout", "10",
         "--warnings", "off",
         "--report-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
