import pytest


@pytest.fixture
def outbox(tmp_path, settings):
    """A private outbox folder for the notices a test delivers."""
    settings.NOTICE_OUTBOX_DIR = tmp_path / "outbox"
    return settings.NOTICE_OUTBOX_DIR
