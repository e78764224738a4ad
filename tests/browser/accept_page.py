"""Drives the accept page (tests/web/invite.html) in headless chromium, as a person would: it shows the
invitation's preview, accepts it with the invitee's token (the first answer is lost after the API
applied it, and pressing again repeats the attempt with the same Idempotency-Key, answered as
the first), a later accept (a new attempt, a new key) says the same, and declining it then shows
the 410.
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
        lost = "Failed to load resource: net::ERR_"  # the answer this test loses on purpose
        page.on(
            "console",
            lambda m: errors.append(m.text)
            if m.type == "error" and not m.text.startswith((answered, lost))
            else None,
        )
        # The Idempotency-Key of each accept sent, and whether its answer was given again.
        keys: list[str | None] = []
        page.on(
            "request",
            lambda r: keys.append(r.headers.get("idempotency-key"))
            if r.method == "POST" and r.url.endswith("/invitations/accept")
            else None,
        )
        replayed: list[str | None] = []
        page.on(
            "response",
            lambda r: replayed.append(r.headers.get("idempotent-replayed"))
            if r.request.method == "POST" and r.url.endswith("/invitations/accept")
            else None,
        )
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_url)

        expect(page.locator("#preview")).to_be_visible()
        expect(page.locator("#org-name")).to_have_text(org_name)
        expect(page.locator("#role")).to_have_text("member")

        page.fill("#sign-in", sign_in)

        # The API applies the first accept, but its answer never reaches the page.
        def lose_answer(route):
            route.fetch()
            route.abort("connectionreset")

        page.route("**/invitations/accept", lose_answer, times=1)
        page.click("#accept")
        expect(page.locator("#result")).to_contain_text("press again")
        page.click("#accept")
        expect(page.locator("#result")).to_have_text(f"Welcome to {org_name}: you are a member.")
        assert keys[0] and keys[0] == keys[-1], f"the repeat sent another key: {keys}"
        assert replayed[-1] == "true", f"the repeat was not answered as the first: {replayed}"

        # Cleared, so that what follows is the second click's own answer.
        page.evaluate("document.getElementById('result').textContent = ''")
        page.click("#accept")
        expect(page.locator("#result")).to_have_text(f"Welcome to {org_name}: you are a member.")
        assert keys[-1] and keys[-1] != keys[0], f"a new attempt reused the key: {keys}"

        page.click("#decline")
        expect(page.locator("#result")).to_have_text(
            "This invitation can no longer be used (already_accepted)."
        )
        browser.close()
    if errors:
        sys.exit(f"the page logged errors: {errors}")
    print(
        "accept page: preview, an accept whose answer was lost and its repeat, a second accept and"
        f" the 410 of a decline in {time.monotonic() - started:.2f} s"
    )


if __name__ == "__main__":
    main()
