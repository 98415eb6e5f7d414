"""Users, passwords (argon2id) and API tokens (only their SHA-256 is kept)."""

from __future__ import annotations

import hashlib
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from peewee import IntegrityError

from .errors import NotFound, ValidationError
from .models import ApiToken, User, db, utcnow, valid_id

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# A hash to verify against when the email is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("tracore-dummy-password")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8
TOKEN_PREFIX = "trk_"


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def create_user(email: str, password: str) -> User:
    """Register a user; refuses a malformed email, a short password or a taken email."""
    email = normalise_email(email)
    if not _EMAIL.match(email) or len(email) > 254:
        raise ValidationError("Enter a valid email address.", field="email")
    if len(password or "") < MIN_PASSWORD:
        raise ValidationError(
            f"Use a password of at least {MIN_PASSWORD} characters.", field="password"
        )
    try:
        with db.atomic():
            return User.create(email=email, password_hash=_hasher.hash(password))
    except IntegrityError:
        raise ValidationError("That email is already registered.", field="email") from None


def authenticate(email: str, password: str) -> User | None:
    """The user with these credentials, or None — the same answer for either mistake."""
    user = User.get_or_none(User.email == normalise_email(email))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password or "")
    except (VerificationError, InvalidHashError):
        return None
    return user


def get_user_by_email(email: str) -> User:
    user = User.get_or_none(User.email == normalise_email(email))
    if user is None:
        raise NotFound("No user with that email.")
    return user


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: User, name: str) -> tuple[ApiToken, str]:
    """A new API token for ``user``; the plaintext is returned once and never stored."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError("Name the token (1–100 characters).", field="name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)  # 256 random bits
    row = ApiToken.create(user=user, name=name, token_hash=hash_token(token))
    return row, token


def user_for_token(token: str) -> User | None:
    """The owner of a live token, recording its use; None for unknown or revoked tokens."""
    if not token:
        return None
    row = (
        ApiToken.select(ApiToken, User)
        .join(User)
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_null())
        .first()
    )
    if row is None:
        return None
    ApiToken.update(last_used_at=utcnow()).where(ApiToken.id == row.id).execute()
    return row.user


def list_tokens(user: User) -> list[ApiToken]:
    return list(
        ApiToken.select()
        .where(ApiToken.user == user, ApiToken.revoked_at.is_null())
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )


def revoke_token(user: User, token_id: int) -> None:
    """Revoke one of the user's own tokens; another user's token is NotFound."""
    if not valid_id(token_id):
        raise NotFound("No such token.")
    updated = (
        ApiToken.update(revoked_at=utcnow())
        .where(
            ApiToken.id == token_id, ApiToken.user == user, ApiToken.revoked_at.is_null()
        )
        .execute()
    )
    if not updated:
        raise NotFound("No such token.")
