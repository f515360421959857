"""Headless Chromium signs in through the real pages, and axe-core finds no
accessibility violations on any page it passes (sign-in, code, set-up, home,
caseload), in English and in Spanish, with and without form errors."""

from __future__ import annotations

import os
import re
import shutil

import pytest
from axe_playwright_python.sync_playwright import Axe
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect, sync_playwright

from accounts import roles
from tests.conftest import totp_code
from tests.factories import TEST_PASSWORD, UserFactory

# Transactional: the live server thread must see the rows each test creates.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
# The machine's network is closed: keep Chromium from phoning home at start.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
axe = Axe()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    page.on(
        "response",
        lambda r: r.status >= 400 and page.console_errors.append(f"{r.status} {r.url}"),
    )
    yield page
    context.close()


def assert_accessible(page: Page, label: str):
    results = axe.run(page)
    assert results.violations_count == 0, f"{label}:\n{results.generate_report()}"
    # A blocked script or style (CSP) shows up as a console error.
    assert page.console_errors == [], f"{label}: {page.console_errors}"


def sign_in_with_password(page: Page, username: str, password: str = TEST_PASSWORD):
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def test_caseworker_signs_in_with_password_and_code(page: Page):
    worker = UserFactory(username="browser-cw", first_name="Robin", role=roles.CASEWORKER)
    device = TOTPDevice.objects.get(user=worker)

    page.goto("/cases/")
    expect(page).to_have_url("/accounts/sign-in/?next=%2Fcases%2F")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Safe Access")
    assert_accessible(page, "sign-in")

    # Keyboard: the first Tab lands on the skip link.
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to main content")

    sign_in_with_password(page, worker.username, "wrong-password-1")
    expect(page.get_by_text("The username or password is not correct.")).to_be_visible()
    # The error is announced and focused, and the title says there is one.
    expect(page).to_have_title(re.compile(r"^Error: Sign in"))
    expect(page.locator(":focus")).to_have_id("form-errors")
    assert_accessible(page, "sign-in with error")

    sign_in_with_password(page, worker.username)
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your one-time code")
    assert_accessible(page, "one-time code")

    page.get_by_label("One-time code").fill("12")
    page.get_by_role("button", name="Verify", exact=True).click()
    expect(page.get_by_text("Enter the 6-digit code, using numbers only.")).to_be_visible()
    expect(page.locator(":focus")).to_have_id("id_code")
    assert_accessible(page, "one-time code with error")

    page.get_by_label("One-time code").fill(totp_code(device))
    page.get_by_role("button", name="Verify", exact=True).click()
    expect(page).to_have_url(re.compile(r"/cases/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My caseload")
    expect(page.locator("#caseload-empty")).to_have_text("No cases are assigned to you yet.")
    assert_accessible(page, "caseload")

    page.get_by_role("link", name="Home").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Robin")
    assert_accessible(page, "home")

    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Safe Access")


def test_first_sign_in_sets_up_an_authenticator(page: Page):
    newcomer = UserFactory(username="browser-new", role=roles.SUPERVISOR, device=False)
    page.goto("/accounts/sign-in/")
    sign_in_with_password(page, newcomer.username)
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-step sign-in")
    expect(page.get_by_role("img", name="QR code")).to_be_visible()
    assert_accessible(page, "set-up")

    device = TOTPDevice.objects.get(user=newcomer, confirmed=False)
    page.get_by_label("One-time code").fill(totp_code(device))
    page.get_by_role("button", name="Finish setup", exact=True).click()
    expect(page.get_by_text("Two-step sign-in is set up for your account.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Test")
    assert_accessible(page, "home after set-up")


def test_spanish_pages_are_translated_and_accessible(page: Page):
    worker = UserFactory(username="browser-es", role=roles.CASEWORKER)
    page.goto("/accounts/sign-in/")
    page.get_by_label("Language").select_option("es")
    page.get_by_role("button", name="Change language", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text("Iniciar sesión en Safe Access")
    expect(page.locator("abbr.usa-hint--required").first).to_have_attribute("title", "obligatorio")
    assert_accessible(page, "sign-in (es)")

    page.get_by_label("Nombre de usuario").fill(worker.username)
    page.get_by_label("Contraseña").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Iniciar sesión", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    assert_accessible(page, "one-time code (es)")
    page.get_by_label("Código de un solo uso").fill(totp_code(TOTPDevice.objects.get(user=worker)))
    page.get_by_role("button", name="Verificar", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    assert_accessible(page, "home (es)")


def test_case_pages_are_accessible_and_reveal_records_a_reason(page: Page):
    from cases.models import ProtectedValueAccess
    from tests.factories import UnitFactory, full_case

    worker = UserFactory(username="browser-cases", role=roles.CASEWORKER)
    case = full_case(
        caseworker=worker,
        unit=UnitFactory(),
        cp_last_name="Rodriguez",
        address="12 Browser Canary Way",
    )
    page.goto("/accounts/sign-in/?next=/cases/")
    sign_in_with_password(page, worker.username)
    page.get_by_label("One-time code").fill(totp_code(TOTPDevice.objects.get(user=worker)))
    page.get_by_role("button", name="Verify", exact=True).click()
    expect(page.locator("#caseload-table")).to_contain_text(case.number)
    assert_accessible(page, "caseload with cases")

    page.get_by_role("link", name="Search cases").click()
    page.get_by_label("Participant name").fill("Rodrigez")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator("#search-results")).to_contain_text(case.number)
    assert_accessible(page, "search results")

    page.get_by_role("link", name=case.number).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Case {case.number}")
    expect(page.locator("body")).not_to_contain_text("Browser Canary")
    assert_accessible(page, "case page")

    page.get_by_role("link", name="Show Residential address").click()
    assert_accessible(page, "reveal form")
    page.get_by_role("button", name="Show it and record my reason", exact=True).click()
    expect(page.get_by_text("Choose the reason you need to see this.")).to_be_visible()
    # USWDS draws its own radio; people click the label.
    page.get_by_text("Safety planning with the survivor", exact=True).click()
    page.get_by_role("button", name="Show it and record my reason", exact=True).click()
    expect(page.locator("#revealed-value")).to_contain_text("12 Browser Canary Way")
    assert_accessible(page, "revealed value")
    assert ProtectedValueAccess.objects.filter(user=worker, reason="safety").count() == 1

    page.goto(f"/cases/{case.pk}/")
    page.get_by_role("link", name="Add contact details").first.click()
    assert_accessible(page, "contact form")
    page.get_by_role("button", name="Save contact details", exact=True).click()
    expect(page.locator("#error-summary")).to_be_focused()
    assert_accessible(page, "contact form with errors")

    page.goto("/cases/new/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Open a case")
    assert_accessible(page, "intake form")
    page.get_by_role("button", name="Open the case", exact=True).click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert_accessible(page, "intake form with errors")


def test_a_supervisor_reviews_and_releases_a_held_notice_accessibly(page: Page):
    import datetime as dt

    from cases.models import Notice
    from safety import notices
    from safety.models import SafetyReview
    from tests.factories import UnitFactory, full_case

    boss = UserFactory(username="browser-boss", role=roles.SUPERVISOR)
    worker = UserFactory(username="browser-worker", role=roles.CASEWORKER)
    case = full_case(caseworker=worker, unit=UnitFactory(supervisor=boss))
    SafetyReview.objects.create(case=case, outcome="not_safe", reviewed_by=worker)
    notice = Notice.objects.create(
        case=case,
        remedy="passport_denial",
        notice_type="passport_denial_notice",
        recipient="other_parent",
        due_on=dt.date(2026, 12, 1),
    )
    notices.gate_pending([notice.pk])
    device = TOTPDevice.objects.get(user=boss)
    page.goto("/accounts/sign-in/?next=/safety/held-notices/")
    sign_in_with_password(page, boss.username)
    page.get_by_label("One-time code").fill(totp_code(device))
    page.get_by_role("button", name="Verify", exact=True).click()
    expect(page.locator("#held-notices")).to_contain_text(case.number)
    assert_accessible(page, "held notices")

    page.get_by_role("link", name=f"Review notice {notice.pk}").click()
    expect(page.locator("#standing-reasons")).to_contain_text("No safety review recorded")
    assert_accessible(page, "held notice review")
    page.get_by_role("button", name="Release the notice", exact=True).click()
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#error-summary")).to_contain_text("Give the reason for your decision.")
    assert_accessible(page, "held notice review with errors")
    assert Notice.objects.get(pk=notice.pk).status == "held"

    page.get_by_label("Why is it safe to send?").fill("Screened by phone; she agreed.")
    page.get_by_text(
        "I have read every reason above and I decide this notice may be sent.", exact=True
    ).click()
    # A fresh code: the sign-in one is spent, so use the next time step's.
    page.get_by_label("Your one-time code, to confirm the release").fill(totp_code(device, 1))
    page.get_by_role("button", name="Release the notice", exact=True).click()
    expect(page.locator("body")).to_contain_text(f"Notice {notice.pk} is released.")
    assert_accessible(page, "held notices after a release")
    assert Notice.objects.get(pk=notice.pk).status in ("released", "sent")
    page.goto("/")
    expect(page.locator("#held-count")).to_contain_text("0 held notices wait")
    assert_accessible(page, "supervisor home")

    # The audit trail: look up the case, open a person's trail, ask to download.
    page.get_by_role("link", name="Audit trail").first.click()
    assert_accessible(page, "audit trail index")
    page.get_by_label("Case number").fill(case.number)
    page.get_by_role("button", name="Show the people on the case", exact=True).click()
    page.get_by_role("link", name="Who viewed or changed their data").first.click()
    expect(page.locator("#trail")).to_be_visible()
    assert_accessible(page, "a person's audit trail")
    page.get_by_text("Download these records (CSV)").click()
    page.get_by_role("button", name="Download (CSV)", exact=True).click()
    expect(page.locator("#error-summary")).to_be_focused()
    assert_accessible(page, "audit download with errors")


def test_breaking_the_glass_is_accessible(page: Page):
    from tests.factories import UnitFactory, full_case

    worker = UserFactory(username="browser-glass", role=roles.CASEWORKER)
    outside = full_case(caseworker=UserFactory(username="browser-owner"), unit=UnitFactory())
    page.goto("/accounts/sign-in/?next=/cases/break-glass/")
    sign_in_with_password(page, worker.username)
    page.get_by_label("One-time code").fill(totp_code(TOTPDevice.objects.get(user=worker)))
    page.get_by_role("button", name="Verify", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Open a case outside your caseload")
    assert_accessible(page, "break-glass form")
    page.get_by_role("button", name="Open the case and record my reason", exact=True).click()
    expect(page.locator("#error-summary")).to_be_focused()
    assert_accessible(page, "break-glass form with errors")
    page.get_by_label("Case number").fill(outside.number)
    page.get_by_text("Covering for an absent colleague", exact=True).click()
    page.get_by_role("textbox", name="Explanation").fill("Colleague out sick; hearing today.")
    page.get_by_role("button", name="Open the case and record my reason", exact=True).click()
    expect(page.locator("#break-glass-banner")).to_be_visible()
    assert_accessible(page, "case opened from outside the caseload")
