"""Argon2 with tiny cost parameters, for tests only (the app uses Django's Argon2 defaults)."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 64
    parallelism = 1
