"""Drives an IONOS Cloud API v6 (the fake, or anything that answers like it)
with IONOS's Python SDK, ionoscloud, through every images operation it has,
with its request status polling, and checks what the real API promises.

    python ionos.py API_URL        (e.g. http://127.0.0.1:PORT/cloudapi/v6)

Credentials: IONOS_USERNAME and IONOS_PASSWORD (HTTP Basic), or IONOS_TOKEN
(the fake's by default); both ways are checked.
"""

import os
import sys
import urllib.parse

import ionoscloud
from ionoscloud.rest import ApiException

from common import Run, check, need

USER = os.environ.get("IONOS_USERNAME", "user@example.com")
PASSWORD = os.environ.get("IONOS_PASSWORD", "ionos-demo-password")
TOKEN = os.environ.get("IONOS_TOKEN", "ionos-demo-token")


def client(api_url, **credentials):
    return ionoscloud.ApiClient(ionoscloud.Configuration(host=api_url, **credentials))


def request_id(headers):
    """The request id in a change's Location header, as the SDK's examples
    read it: .../requests/{id}/status."""
    location = headers.get("Location") or headers.get("location")
    check(location, f"a change answered no Location header: {dict(headers)}")
    path = urllib.parse.urlsplit(location).path.rstrip("/").split("/")
    check(len(path) >= 3 and path[-1] == "status" and path[-3] == "requests",
          f"Location {location!r} is not .../requests/{{id}}/status")
    check(urllib.parse.urlsplit(location).path.startswith("/cloudapi/v6/"),
          f"Location {location!r} is not under /cloudapi/v6")
    return path[-2]


def wait(api, headers):
    """Waits until the change's request is DONE, as the SDK does it."""
    rid = request_id(headers)
    api.wait_for_completion(rid, timeout=30, initial_wait=0.1, scaleup=1000)
    status = ionoscloud.RequestsApi(api).requests_status_get(rid)
    check(status.metadata.status == "DONE", f"request {rid} is {status.metadata.status} after the wait")
    return rid


def list_all(api):
    images = ionoscloud.ImagesApi(api)
    full = images.images_get(depth=1).items
    check(full, "no image listed")
    ids = [i.id for i in full]
    check(len(set(ids)) == len(ids), "an image is listed twice")
    check(all(i.properties is not None and i.properties.name for i in full), "depth=1 listed an image without properties")
    refs = images.images_get(depth=0).items
    check(sorted(r.id for r in refs) == sorted(ids), "depth=0 and depth=1 list different images")
    check(all(r.href and r.type == "image" for r in refs), "a depth=0 reference lacks href or type")
    return [i for i in full if not i.properties.public]


def list_filter(api):
    images = ionoscloud.ImagesApi(api)
    linux = images.images_get(depth=1, query_params={"filter.licenceType": "LINUX"}).items
    check(linux, "filter.licenceType=LINUX listed nothing")
    check(all(i.properties.licence_type == "LINUX" for i in linux),
          f"filter.licenceType=LINUX listed {sorted({i.properties.licence_type for i in linux})}")


def find(api, image_id):
    image = ionoscloud.ImagesApi(api).images_find_by_id(image_id, depth=1)
    check(image.id == image_id, f"asked for {image_id}, got {image.id}")
    return image


def rename(api, image_id, name):
    _, status, headers = ionoscloud.ImagesApi(api).images_patch_with_http_info(
        image_id, ionoscloud.ImageProperties(name=name))
    check(status == 202, f"PATCH answered {status}, not 202")
    wait(api, headers)
    image = find(api, image_id)
    check(image.properties.name == name, f"after the rename the image is {image.properties.name!r}")
    check(image.metadata.state == "AVAILABLE", f"after the wait the image is {image.metadata.state}")


def replace(api, image_id):
    before = find(api, image_id).properties
    properties = ionoscloud.ImageProperties(
        name=before.name,
        description="replaced by the peers check",
        licence_type=before.licence_type,
        cpu_hot_plug=True,
        ram_hot_plug=True,
        nic_hot_plug=True,
        nic_hot_unplug=True,
        disc_virtio_hot_plug=True,
        disc_virtio_hot_unplug=True,
        expose_serial=True,
        cloud_init="V1",
    )
    _, status, headers = ionoscloud.ImagesApi(api).images_put_with_http_info(
        image_id, ionoscloud.Image(properties=properties))
    check(status == 202, f"PUT answered {status}, not 202")
    wait(api, headers)
    after = find(api, image_id).properties
    check(after.description == "replaced by the peers check", f"description is {after.description!r}")
    check(after.expose_serial is True, f"exposeSerial is {after.expose_serial!r}")


def request_status(api, image_id):
    """The status of a change, polled by hand: QUEUED or RUNNING, then DONE,
    with the image as its target."""
    _, _, headers = ionoscloud.ImagesApi(api).images_patch_with_http_info(
        image_id, ionoscloud.ImageProperties(description="polled by hand"))
    rid = request_id(headers)
    seen = []
    for _ in range(50):
        status = ionoscloud.RequestsApi(api).requests_status_get(rid)
        seen.append(status.metadata.status)
        if status.metadata.status in ("DONE", "FAILED"):
            break
    check(seen[-1] == "DONE", f"the request went {seen}")
    check(all(s in ("QUEUED", "RUNNING", "DONE") for s in seen), f"the request went {seen}")
    targets = [t.target.id for t in (status.metadata.targets or [])]
    check(image_id in targets, f"the request's targets are {targets}, not the image")


def delete(api, image_id):
    _, status, headers = ionoscloud.ImagesApi(api).images_delete_with_http_info(image_id)
    check(status == 202, f"DELETE answered {status}, not 202")
    wait(api, headers)
    try:
        ionoscloud.ImagesApi(api).images_find_by_id(image_id)
    except ApiException as e:
        check(e.status == 404, f"get after delete: HTTP {e.status}, not 404")
    else:
        raise AssertionError("the deleted image is still there")
    ids = [i.id for i in ionoscloud.ImagesApi(api).images_get(depth=1).items]
    check(image_id not in ids, "the deleted image is still listed")


def refused(api_url):
    try:
        ionoscloud.ImagesApi(client(api_url, username=USER, password="not-the-password")).images_get()
    except ApiException as e:
        check(e.status == 401, f"a wrong password: HTTP {e.status}, not 401")
    else:
        raise AssertionError("a wrong password was accepted")


def main():
    api_url = sys.argv[1]
    run = Run("ionos")
    basic = client(api_url, username=USER, password=PASSWORD)
    token = client(api_url, token=TOKEN)
    run.step("a wrong password is refused", refused, api_url)
    run.step("list with a token", lambda: list_all(token))
    private = run.step("list (depth 0 and 1)", list_all, basic)
    run.step("list filter (filter.licenceType)", list_filter, basic)
    image_id = need(private, "the account's images")[0].id if private else None
    the = lambda: need(image_id, "an image of the account")  # noqa: E731
    run.step("get", lambda: find(basic, the()))
    run.step("rename (PATCH), wait until DONE", lambda: rename(basic, the(), "peers-renamed"))
    run.step("replace (PUT), wait until DONE", lambda: replace(basic, the()))
    run.step("request status polled until DONE", lambda: request_status(basic, the()))
    run.step("delete, wait until DONE, then 404 and not listed", lambda: delete(basic, the()))
    # IONOS has no import from a URL: an image is uploaded over FTP, which
    # the SDK does not do either.
    return run.finish()


if __name__ == "__main__":
    sys.exit(main())
