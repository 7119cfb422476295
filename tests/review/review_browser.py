"""Driving real headless Chromium (Selenium + /usr/bin/chromedriver) through the review app: start it, log in,
rate by keyboard, submit and wait for the next page."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from pathlib import Path

HAVE_CHROMIUM = bool(shutil.which("chromium") and os.path.exists("/usr/bin/chromedriver"))
NO_CHROMIUM = "needs Debian chromium and chromium-driver (scripts/system-packages.txt)"


def start_browser(profile: Path):
    """A headless Chromium with its own profile folder."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}"):  # fmt: skip
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    driver.implicitly_wait(5)
    return driver


def login(driver, url, name, token):
    """Log in as `name` (cookies cleared first) and land on an item page."""
    driver.delete_all_cookies()
    driver.get(url + "/login")
    driver.find_element("id", "name").send_keys(name)
    driver.find_element("id", "token").send_keys(token)
    and_wait(driver, driver.find_element("id", "login-button").click)
    assert re.search(r"/item/\d+$", driver.current_url), driver.page_source[:500]


def rate_by_keyboard(driver, adequacy, fluency, decision_key):
    """Pick the ratings with the page's keyboard shortcuts."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    driver.find_element("tag name", "h2").click()  # focus on the page, not in a text field
    ActionChains(driver).send_keys(str(adequacy)).key_down(Keys.SHIFT).send_keys(str(fluency)).key_up(
        Keys.SHIFT
    ).send_keys(decision_key).perform()


def and_wait(driver, action):
    """Do `action` (a click, a key) and wait until the browser has loaded the next page."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element("tag name", "html")
    action()

    def left(_driver) -> bool:
        try:
            old.is_enabled()
            return False
        except StaleElementReferenceException:
            return True
        except WebDriverException as e:
            # chromedriver asked mid-navigation may answer that the node has left the document instead
            if "does not belong to the document" in str(e):
                return True
            raise

    WebDriverWait(driver, 15).until(left)


def submit_page(driver):
    """Click Submit and wait for the answer page."""
    and_wait(driver, driver.find_element("id", "submit").click)


def submitted(project):
    """Every stored submission: (annotator, item key, version, ratings, messages), oldest first."""
    conn = sqlite3.connect(os.path.join(project, "review.sqlite"))
    return conn.execute(
        """SELECT a.annotator, i.item_key, s.version, s.ratings, s.messages FROM submissions s
           JOIN assignments a ON a.id = s.assignment_id JOIN items i ON i.id = a.item_id ORDER BY s.id"""
    ).fetchall()


def item_key(driver):
    """The key of the item on the page."""
    return re.search(r"item (s\d+) ·", driver.find_element("class name", "meta").text).group(1)
