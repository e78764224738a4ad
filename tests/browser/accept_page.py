"""Drives the accept page (tests/web/invite.html) in headless chromium, as a person would: it shows the
invitation's preview, accepts it with the invitee's token, a second accept (a second click) says
the same, and declining it then shows the 410.
Every call the page makes goes to the API on another origin, so this passes only if CORS does.

Run by tests/tests/api/browser.rs, which starts the API and the page and passes:
  PAGE_URL  the invitation link on the page's origin     ORG_NAME  the organization's display name
  SIGN_IN   the invitee's token                          CHROMIUM  the browser (Debian's chromium)
"""

import os
import sys
import time

from playwright.sync_api import expect, sync_playwright


def main() -> None:
    started = time.monotonic()
    page_url, org_name, sign_in = os.environ["PAGE_URL"], os.environ["ORG_NAME"], os.environ["SIGN_IN"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=os.environ["CHROMIUM"], headless=True)
        page = browser.new_page()
        # A CORS refusal shows only in the console. Chromium also logs every answer of 400 or more
        # there ("Failed to load resource"), which the 410 of the decline is meant to be.
        errors: list[str] = []
        answered = "Failed to load resource: the server responded with a status of"
        page.on(
            "console",
            lambda m: errors.append(m.text) if m.type == "error" and not m.text.startswith(answered) else None,
        )
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_url)

        expect(page.locator("#preview")).to_be_visible()
        expect(page.locator("#org-name")).to_have_text(org_name)
        expect(page.locator("#role")).to_have_text("member")

        page.fill("#sign-in", sign_in)
        page.click("#accept")
        expect(page.locator("#result")).to_have_text(f"Welcome to {org_name}: you are a member.")

        # Cleared, so that what follows is the second click's own answer.
        page.evaluate("document.getElementById('result').textContent = ''")
        page.click("#accept")
        expect(page.locator("#result")).to_have_text(f"Welcome to {org_name}: you are a member.")

        page.click("#decline")
        expect(page.locator("#result")).to_have_text(
            "This invitation can no longer be used (already_accepted)."
        )
        browser.close()
    if errors:
        sys.exit(f"the page logged errors: {errors}")
    print(f"accept page: preview, accept, a second accept and the 410 of a decline in {time.monotonic() - started:.2f} s")


if __name__ == "__main__":
    main()
