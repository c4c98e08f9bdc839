"""The sign-in fixtures of the services' tests (users with passwords, a frozen clock, fast argon2)."""

from tests.services.conftest import clock, fast_argon2, make_user, new_ip  # noqa: F401  (fixtures)
