"""The review tests' browser fixture (a fresh headless Chromium per test)."""

import pytest
from review_browser import start_browser


@pytest.fixture
def browser(tmp_path):
    driver = start_browser(tmp_path / "chromium")
    yield driver
    driver.quit()
