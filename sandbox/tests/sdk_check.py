"""Runs the published KeyStone Python SDK (keystoneos 0.1.0), unchanged, against a sandbox.

Usage: python sdk_check.py <sandbox base URL>. Exits non-zero on the first mismatch.
"""
import sys
import uuid

from keystoneos import KeystoneSyncClient
from keystoneos.types.environments import EnvironmentCreate, EnvironmentUpdate

base = sys.argv[1].rstrip("/")
with KeystoneSyncClient(
    client_id="sandbox-m2m-development",
    client_secret="sandbox-m2m-secret-development",
    base_url=base,
    auth_domain=base,
) as client:
    page = client.environments.list(limit=10)
    slugs = [environment.slug for environment in page.items]
    assert slugs == ["development", "staging", "production"], slugs
    assert page.total == 3 and not page.has_more

    staging = client.environments.get(page.items[1].id)
    assert staging.slug == "staging" and staging.is_active

    slug = f"sdk-{uuid.uuid4().hex[:8]}"
    created = client.environments.create(
        EnvironmentCreate(name="SDK check", slug=slug, auth0_client_id=f"sandbox-m2m-{slug}")
    )
    assert created.slug == slug and created.default_timeout_seconds == 3600

    updated = client.environments.update(created.id, EnvironmentUpdate(name="SDK checked", rate_limit_rpm=120))
    assert updated.name == "SDK checked" and updated.rate_limit_rpm == 120

    deactivated = client.environments.deactivate(created.id)
    assert deactivated.is_active is False

    reactivated = client.environments.update(created.id, EnvironmentUpdate(is_active=True))
    assert reactivated.is_active is True
print("keystoneos SDK: list, get, create, update, deactivate, reactivate all passed")
