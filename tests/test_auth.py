"""Accounts: register, sign in and out, CSRF, sign-up switch, htmx-aware redirects."""

import re

from tests.conftest import Browser
from tracore.models import User

PASSWORD = "correct horse battery"


def test_registering_signs_in_and_lands_on_profile(visitor):
    visitor.get("/register")
    response = visitor.form("/register", {"email": "Ada@Example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/profile")
    page = visitor.get("/profile")
    assert page.status_code == 200
    assert "Sign out" in page.get_data(as_text=True)
    assert User.get().email == "ada@example.com"


def test_password_is_stored_as_argon2id(signed_in):
    stored = User.get().password_hash
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_sign_out_then_profile_requires_sign_in(signed_in):
    signed_in.get("/profile")
    assert signed_in.form("/logout").status_code == 302
    response = signed_in.get("/profile")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_sign_in_with_the_right_password(app, signed_in):
    fresh = Browser(app.test_client())
    fresh.get("/login")
    response = fresh.form("/login", {"email": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert fresh.get("/profile").status_code == 200


def test_wrong_password_and_unknown_email_get_the_same_message(app, signed_in):
    fresh = Browser(app.test_client())
    fresh.get("/login")
    wrong = fresh.form("/login", {"email": "ada@example.com", "password": "wrong password"})
    unknown = fresh.form("/login", {"email": "nobody@example.com", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    text = wrong.get_data(as_text=True)
    assert "don&#39;t match an account" in text

    def page_without(response, email):
        # The CSRF token is signed with a timestamp: compare the pages without it.
        html = response.get_data(as_text=True).replace(email, "X")
        return re.sub(r'(X-CSRFToken": "|name="csrf_token" value=")[^"]+', "", html)

    assert page_without(wrong, "ada@example.com") == page_without(unknown, "nobody@example.com")
    assert fresh.get("/profile").status_code == 302


def test_a_post_without_csrf_token_is_refused(app):
    client = app.test_client()
    response = client.post("/register", data={"email": "a@example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert User.select().count() == 0


def test_an_htmx_request_without_csrf_header_is_refused(signed_in):
    response = signed_in.client.put(
        "/profile/keys/openai/default-model", data={"default_model": "gpt-4o"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400
    assert 'data-error-code="csrf_failed"' in response.get_data(as_text=True)


def test_signup_can_be_disabled(make_app):
    app = make_app(TRACORE_ALLOW_SIGNUP="false")
    visitor = Browser(app.test_client())
    assert visitor.get("/register").status_code == 404
    visitor.get("/login")
    response = visitor.form("/register", {"email": "a@example.com", "password": PASSWORD})
    assert response.status_code == 404
    assert User.select().count() == 0


def test_registration_errors_are_clear_and_change_nothing(visitor):
    visitor.get("/register")
    short = visitor.form("/register", {"email": "a@example.com", "password": "short"})
    assert short.status_code == 422
    assert 'data-error-code="validation_error"' in short.get_data(as_text=True)
    visitor.register(email="taken@example.com")
    visitor.form("/logout")
    visitor.get("/register")
    taken = visitor.form("/register", {"email": "taken@example.com", "password": PASSWORD})
    assert taken.status_code == 422
    assert User.select().count() == 1


def test_htmx_request_while_signed_out_gets_401_with_hx_redirect(app):
    response = app.test_client().post(
        "/profile/keys/openai/test", headers={"HX-Request": "true"}
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login"
    assert response.get_data() == b""


def test_login_attempts_are_rate_limited_per_email(app, signed_in):
    attacker = Browser(app.test_client())
    attacker.get("/login")
    statuses = [
        attacker.form("/login", {"email": "ada@example.com", "password": f"guess-{i}"}).status_code
        for i in range(11)
    ]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    last = attacker.form("/login", {"email": "ada@example.com", "password": PASSWORD})
    assert last.status_code == 429
    assert int(last.headers["Retry-After"]) >= 1
    assert "Too many attempts" in last.get_data(as_text=True)


def test_session_cookie_is_httponly_and_lax(visitor):
    visitor.get("/register")
    response = visitor.form("/register", {"email": "c@example.com", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_next_parameter_cannot_redirect_off_site(app, signed_in):
    fresh = Browser(app.test_client())
    fresh.get("/login")
    response = fresh.form(
        "/login", {"email": "ada@example.com", "password": PASSWORD, "next": "//evil.example/"}
    )
    assert response.headers["Location"].endswith("/profile")
