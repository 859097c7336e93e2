import pytest


@pytest.fixture(autouse=True)
def _own_checkpoint_dir(settings, tmp_path):
    """Each test anchors into its own directory: tenant ids repeat from test to test, so
    an earlier test's checkpoints would read as this test's chains having been cut."""
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "audit-checkpoints"
