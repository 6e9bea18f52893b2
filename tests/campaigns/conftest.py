import pytest

from tests.campaign_factory import CampaignFactory


@pytest.fixture
def campaigns(app):
    return CampaignFactory(app)


@pytest.fixture
def upload_dir(app, tmp_path):
    """Uploads go to a throwaway folder for the test."""
    original = app.config["UPLOAD_DIR"]
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    yield tmp_path / "uploads"
    app.config["UPLOAD_DIR"] = original
