"""pytest fixtures for the SDK tests: a client for the live Kiln at KILN_ADDRESS, the third-party model fixtures, and
model names unique to the run."""
import os
import pathlib
import uuid

import pytest

from kiln_sdk import Client

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def address() -> str:
    value = os.environ.get("KILN_ADDRESS")
    if not value:
        # Not a skip: these tests exist to run against real services (test/sdk.test.ts starts them).
        pytest.fail("KILN_ADDRESS is not set: run through test/sdk.test.ts, or point it at a running Kiln registry")
    return value


@pytest.fixture(scope="session")
def client(address):
    with Client(address, timeout=60) as c:
        c.wait_ready(30)
        yield c


@pytest.fixture(scope="session")
def fixtures() -> pathlib.Path:
    root = pathlib.Path(os.environ.get("KILN_FIXTURES_DIR") or REPO_ROOT / "test" / "fixtures" / "third-party")
    if not (root / "hydrosphere" / "onnx_mnist" / "mnist.onnx").is_file():
        pytest.fail(f"the model fixtures are not in {root} (set KILN_FIXTURES_DIR)")
    return root


@pytest.fixture
def model_name(request) -> str:
    """A model name no other test or run uses."""
    base = request.node.name.replace("test_", "").replace("_", "-")[:40].strip("-")
    return f"py-{base}-{uuid.uuid4().hex[:8]}"
