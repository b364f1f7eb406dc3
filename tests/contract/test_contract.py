"""Both roles' OpenAPI documents hold against real servers, read as a stranger's tooling reads them.

schemathesis, run as anyone would run it (`st run --checks all`), loads `/api/v1/openapi.json` from
a real tracker and a real edge (gunicorn on loopback, throwaway data dirs: placements reserve space,
donations post) and runs every check on every documented operation in all its phases: the
documents' examples; coverage (boundary values, every missing or malformed part, every method the
document does not list); 60 generated requests per operation, schema-valid and schema-violating;
and stateful sequences. So a schema-valid request the code refuses, a schema-violating one it
takes, a status, content type or body the document does not describe, an unlisted method that is
not a 405, or a server error fails `make test`.

Requests that need a signature (announces, registrations, drops) or a ticket (uploads) cannot be
forged by a generator: they get the 403 or 401 the documents list for them. What the contract says
that schemathesis cannot read from a document is below (its configuration) and in
tests/contract/hooks.py (what ties one header of an edge upload to another). Both servers have an
operator token, which schemathesis sends to their operator routes (and leaves out, to see the 401).

The command line rather than `schemathesis.pytest.from_fixture`: the latter renames pytest's test
item through `Function._nodeid`, which pytest 9.2 no longer has; and the command line is what a
stranger runs.
"""
import os
import subprocess
import sys

import pytest

from tests.actions import announced, wait_for
from tests.servers import ROOT, start_edge, start_tracker

# What the contract says that schemathesis's defaults do not know (schemathesis.toml format).
# schemathesis counts 400, 401, 403, 404, 405, 406, 409, 415, 422, 428, 429 and 5xx as refusing a
# schema-violating request; 413 (too large: a body past the tracker's 4 MiB, an upload past
# EDGE_MAX_UPLOAD) and gunicorn's own 414 (request line too long) and 431 (headers too large), which
# the documents list, refuse one just as well; so does 410 (Gone: a video deleted or taken down, which
# schemathesis itself does with the operator's token), which also answers a schema-valid request
# about such a video, as 404 answers one about a video never known.
REFUSALS = ["400", "401", "403", "404", "405", "406", "409", "410", "413", "414", "415", "422", "428", "429",
            "431", "5xx"]
COMMON = f"""
[checks.negative_data_rejection]
expected-statuses = {REFUSALS}

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "410", "429", "5xx"]
"""
TRACKER_CONFIG = COMMON + """
[auth.openapi.operator]
bearer = "test-admin-token"

[[operations]]
# DESIGN.md's upload handshake: 507 when no edge has room is the contract, not a server fault.
include-path = "/api/v1/uploads"
include-method = "POST"
checks.not_a_server_error.expected-statuses = ["2xx", "3xx", "4xx", "507"]
"""
# tus 1.0 answers 412 Precondition Failed to a request without `Tus-Resumable: 1.0.0` (its "core
# protocol" section); the bearer token is the EDGE_ADMIN_TOKEN start_edge gives the edge.
EDGE_CONFIG = COMMON + f"""
[auth.openapi.operator]
bearer = "test-admin-token"

[[operations]]
include-path-regex = "^/api/v1/uploads"
checks.negative_data_rejection.expected-statuses = {sorted(REFUSALS + ["412"])}
checks.missing_required_header.expected-statuses = ["400", "401", "403", "406", "412", "415", "422"]
"""


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    root = tmp_path_factory.mktemp("contract")
    # The operator's routes are tested with the token, and without it (401), as the edge's are.
    tracker = start_tracker(root / "tracker", TRACKER_ADMIN_TOKEN="test-admin-token")
    edge = None
    try:
        edge = start_edge(root / "edge", tracker.url)
        wait_for(lambda: announced(edge), message="the edge announced")
        yield tracker, edge
    finally:
        for server in (edge, tracker):
            if server is not None:
                server.stop()


def schemathesis(document_url, workdir, config=""):
    """`st run` with every check, 60 generated requests per operation, reproducible (a fixed seed;
    deterministic generation, which also keeps no example database); its report is the failure."""
    (workdir / "schemathesis.toml").write_text(config)
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(workdir / "schemathesis.toml"),
               "run", document_url, "--checks", "all", "--max-examples", "60", "--seed", "1",
               "--generation-deterministic", "--request-timeout", "30",
               "--no-color"]
    # In its own directory: schemathesis keeps replay files there.
    done = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=500, check=False,
                          env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.contract.hooks", "PYTHONPATH": ROOT})
    if done.returncode != 0:
        pytest.fail(done.stdout + done.stderr, pytrace=False)


def test_tracker_does_what_its_document_says(servers, tmp_path):
    schemathesis(servers[0].url + "/api/v1/openapi.json", tmp_path, TRACKER_CONFIG)


def test_edge_does_what_its_document_says(servers, tmp_path):
    schemathesis(servers[1].url + "/api/v1/openapi.json", tmp_path, EDGE_CONFIG)
