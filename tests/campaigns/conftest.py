import pytest

from tests.campaign_factory import CampaignFactory


@pytest.fixture
def campaigns(app):
    return CampaignFactory(app)
