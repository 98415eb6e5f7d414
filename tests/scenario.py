"""Build the common starting point through the domain: a user whose environment acme/prod
runs with one of their keys."""

from tracore import accounts, environments, keys


def user_with_key_on_prod(settings, provider, key, model=None, email="ada@example.com"):
    """A user with workspace Acme, environment prod, and ``key`` stored for ``provider``
    and assigned to prod (with ``model`` as its override, if given)."""
    user = accounts.create_user(email, "correct horse battery")
    environments.create_workspace(user, "Acme")
    environments.create_environment(user, "acme", "prod")
    keys.save_key(settings, user, provider, key)
    environments.assign(settings, user, "acme", "prod", provider, model)
    return user
