from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    """Argon2id with OWASP's recommended baseline (19 MiB, 2 passes, 1 lane) instead of Django's 100 MiB
    over 8 lanes: a login then holds a sync worker for ~40 ms instead of ~190 ms and its memory peaks at
    ~20 MB more instead of ~100 MB (docs/decisions.md). Same "argon2" prefix: hashes made with other
    parameters still verify and are re-hashed with these at the next login."""

    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1
