"""Runs the published KeyStone Python SDK (keystoneos 0.1.0), unchanged, against a sandbox.

Usage: python sdk_check.py <sandbox base URL>. Exits non-zero on the first mismatch.
"""
import http.server
import sys
import threading
import uuid

from keystoneos import KeystoneSyncClient
from keystoneos.types.environments import EnvironmentCreate, EnvironmentUpdate
from keystoneos.types.webhooks import WebhookEndpointCreate, WebhookEndpointUpdate

received = []


class Receiver(http.server.BaseHTTPRequestHandler):
    """A webhook receiver on loopback: keeps each delivery's headers and raw body."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        received.append((self.headers, body))  # case-insensitive names
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


receiver = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=receiver.serve_forever, daemon=True).start()
hook_url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"

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

    # Webhooks: every call of the SDK's resource, and a real delivery verified with its helper.
    endpoint = client.webhooks.create(WebhookEndpointCreate(url=hook_url, description="SDK check"))
    assert endpoint.events == ["*"] and endpoint.is_active and endpoint.secret
    secret = endpoint.secret
    assert client.webhooks.get(endpoint.id).url == hook_url
    assert any(item.id == endpoint.id for item in client.webhooks.list(limit=200).items)
    renamed = client.webhooks.update(endpoint.id, WebhookEndpointUpdate(description="SDK checked"))
    assert renamed.description == "SDK checked" and renamed.events == ["*"]

    result = client.webhooks.test(endpoint.id)
    assert result.success and result.status_code == 204, result
    headers, body = received[-1]
    assert client.webhooks.verify_signature(body, headers["X-Keystone-Signature"], secret)
    assert not client.webhooks.verify_signature(body, headers["X-Keystone-Signature"], "not-the-secret")

    rotation = client.webhooks.rotate_secret(endpoint.id)
    assert rotation.new_secret != secret and rotation.previous_secret_valid_until
    assert client.webhooks.test(endpoint.id).success
    headers, body = received[-1]
    assert client.webhooks.verify_signature(body, headers["X-Keystone-Signature"], rotation.new_secret)
    assert client.webhooks.verify_signature(body, headers["X-Keystone-Signature-Previous"], secret)

    log = client.webhooks.list_deliveries(endpoint.id, limit=1)
    assert log.total == 2 and len(log.items) == 1 and log.items[0].success
    client.webhooks.delete(endpoint.id)
    assert all(item.id != endpoint.id for item in client.webhooks.list(limit=200).items)
print("keystoneos SDK: environments (list, get, create, update, deactivate, reactivate) and webhooks "
      "(create, get, list, update, test, verify_signature, rotate_secret, list_deliveries, delete) all passed")
