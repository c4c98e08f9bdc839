"""The services package's fixtures (a frozen clock, fresh client addresses, users with passwords and MFA)."""

from tests.services.conftest import clock, fast_argon2, make_user, new_ip  # noqa: F401
