"""Drives a Contabo API (the fake, or anything that answers like it) with
Contabo's Python client, pfruck-contabo, through every images operation it
has, and checks what the real API promises.

    python contabo.py API_URL TOKEN_URL

Credentials: CNTB_OAUTH2_CLIENT_ID, CNTB_OAUTH2_CLIENT_SECRET,
CNTB_OAUTH2_USER and CNTB_OAUTH2_PASS (the fake's by default), the variables
Contabo's CLI reads.
"""

import os
import sys
import urllib.parse
import uuid

import requests
from pfruck_contabo import ApiClient, Configuration, ImagesApi, ImagesAuditsApi
from pfruck_contabo.exceptions import ApiException
from pfruck_contabo.models.create_custom_image_request import CreateCustomImageRequest
from pfruck_contabo.models.update_custom_image_request import UpdateCustomImageRequest

from common import Run, check, need, until

PAGE_SIZE = 10


def rid():
    """A fresh x-request-id: the API wants a UUID v4 on every request."""
    return str(uuid.uuid4())


def token(token_url):
    """Contabo's OAuth2 password grant, as its CLI does it."""
    answer = requests.post(
        token_url,
        data={
            "client_id": os.environ.get("CNTB_OAUTH2_CLIENT_ID", "demo-client"),
            "client_secret": os.environ.get("CNTB_OAUTH2_CLIENT_SECRET", "demo-secret"),
            "username": os.environ.get("CNTB_OAUTH2_USER", "api-user"),
            "password": os.environ.get("CNTB_OAUTH2_PASS", "api-pass"),
            "grant_type": "password",
        },
        timeout=30,
    )
    check(answer.status_code == 200, f"token endpoint answered {answer.status_code}: {answer.text[:200]}")
    body = answer.json()
    check(body.get("token_type", "").lower() == "bearer", f"token_type is {body.get('token_type')!r}")
    check(isinstance(body.get("expires_in"), int) and body["expires_in"] > 0, f"expires_in is {body.get('expires_in')!r}")
    return body["access_token"]


def wrong_password(token_url):
    answer = requests.post(
        token_url,
        data={"client_id": "demo-client", "client_secret": "demo-secret", "username": "api-user",
              "password": "not-the-password", "grant_type": "password"},
        timeout=30,
    )
    check(answer.status_code == 401, f"a wrong password got {answer.status_code}, not 401")
    check(answer.json().get("error") == "invalid_grant", f"error is {answer.json().get('error')!r}, not invalid_grant")


def all_pages(images, **filters):
    """Every image over all pages (page=1, 2, ... up to
    _pagination.totalPages), each page checked."""
    seen, page = [], 1
    while True:
        answer = images.retrieve_image_list(x_request_id=rid(), page=page, size=PAGE_SIZE, **filters)
        meta = answer.pagination
        check(meta.page == page, f"asked for page {page}, got page {meta.page}")
        check(meta.size == PAGE_SIZE, f"asked for size {PAGE_SIZE}, got {meta.size}")
        seen += answer.data
        if page >= meta.total_pages:
            check(len(seen) == meta.total_elements, f"{len(seen)} images over all pages, totalElements {meta.total_elements}")
            ids = [i.image_id for i in seen]
            check(len(set(ids)) == len(ids), "an image came twice over the pages")
            return seen
        check(len(answer.data) == PAGE_SIZE, f"page {page} (not the last) has {len(answer.data)} items")
        page += 1


def links(images):
    """_links on the first and the second page: self, first and last always,
    previous and next where there is such a page, each naming its page (as
    the spec's examples: /v1/compute/images?page=2)."""
    for page in (1, 2):
        answer = images.retrieve_image_list(x_request_id=rid(), page=page, size=PAGE_SIZE)
        got = answer.links.to_dict()
        wanted = {"self": page, "first": 1, "next": page + 1, "last": answer.pagination.total_pages}
        if page == 2:
            wanted["previous"] = 1
        for name, number in wanted.items():
            check(name in got, f"page {page}: _links has no {name}: {got}")
            query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(got[name]).query))
            check(query.get("page") == str(number), f"page {page}: _links.{name} is {got[name]}")


def list_filters(images):
    custom = all_pages(images, standard_image=False)
    check(custom, "no custom image seeded")
    check(all(not i.standard_image for i in custom), "standardImage=false listed a standard image")
    standard = all_pages(images, standard_image=True)
    check(all(i.standard_image for i in standard), "standardImage=true listed a custom image")
    name = standard[0].name
    named = all_pages(images, name=name)
    check(named and all(name.lower() in i.name.lower() for i in named), f"name={name!r} listed {[i.name for i in named]}")
    ordered = images.retrieve_image_list(x_request_id=rid(), size=PAGE_SIZE, order_by=["name:ASC"]).data
    names = [i.name for i in ordered]
    check(names == sorted(names, key=str.lower) or names == sorted(names), f"orderBy=name:ASC gave {names}")
    return len(custom)


def create(images, name):
    answer = images.create_custom_image(
        x_request_id=rid(),
        create_custom_image_request=CreateCustomImageRequest(
            name=name,
            description="made by the peers check",
            url="https://example.com/images/peers-check.qcow2",
            os_type="Linux",
            version="13",
        ),
    )
    check(len(answer.data) == 1, f"create answered {len(answer.data)} items")
    return answer.data[0].image_id


def get(images, image_id):
    answer = images.retrieve_image(x_request_id=rid(), image_id=image_id)
    check(len(answer.data) == 1, f"get answered {len(answer.data)} items")
    check(answer.data[0].image_id == image_id, f"asked for {image_id}, got {answer.data[0].image_id}")
    return answer.data[0]


def wait_downloaded(images, image_id):
    image = until(f"image {image_id} downloaded", lambda: get(images, image_id),
                  lambda i: i.status in ("downloaded", "error"))
    check(image.status == "downloaded", f"image ended {image.status}: {image.error_message}")
    check(image.uploaded_size_mb == image.size_mb, f"downloaded with {image.uploaded_size_mb} of {image.size_mb} MB")
    return image


def listed(images, image_id, name):
    found = [i for i in all_pages(images, standard_image=False) if i.image_id == image_id]
    check(len(found) == 1, f"the created image is listed {len(found)} times")
    check(found[0].name == name, f"listed as {found[0].name!r}, not {name!r}")


def rename(images, image_id, name):
    answer = images.update_image(
        x_request_id=rid(),
        image_id=image_id,
        update_custom_image_request=UpdateCustomImageRequest(name=name, description="renamed by the peers check"),
    )
    check(answer.data[0].image_id == image_id, "update answered another image")
    image = get(images, image_id)
    check(image.name == name, f"after the rename the image is {image.name!r}")
    check(image.description == "renamed by the peers check", f"description is {image.description!r}")


def stats(images, custom_count):
    data = images.retrieve_custom_images_stats(x_request_id=rid()).data
    check(len(data) == 1, f"stats answered {len(data)} items")
    s = data[0]
    check(s.current_images_count == custom_count, f"currentImagesCount {s.current_images_count}, {custom_count} custom images listed")
    check(s.used_size_mb + s.free_size_mb == s.total_size_mb, f"used {s.used_size_mb} + free {s.free_size_mb} != total {s.total_size_mb}")


def audits(images, audit_api, image_id, name):
    """The image's audit entries (imageId filter), and the one of a rename
    found by its request id (requestId filter)."""
    request_id = rid()
    images.update_image(x_request_id=request_id, image_id=image_id,
                        update_custom_image_request=UpdateCustomImageRequest(name=name))
    entries = audit_api.retrieve_image_audits_list(x_request_id=rid(), image_id=image_id, size=PAGE_SIZE).data
    check(entries, f"no audit entry for image {image_id}")
    check(all(e.image_id == image_id for e in entries), "imageId filter listed another image's entries")
    actions = [e.action for e in entries]
    check("CREATED" in actions, f"no CREATED entry: {actions}")
    check("UPDATED" in actions, f"no UPDATED entry: {actions}")
    by_request = audit_api.retrieve_image_audits_list(x_request_id=rid(), request_id=request_id).data
    check(len(by_request) == 1 and by_request[0].request_id == request_id,
          f"requestId={request_id} listed {[e.request_id for e in by_request]}")


def delete(images, image_id):
    images.delete_image(x_request_id=rid(), image_id=image_id)
    try:
        images.retrieve_image(x_request_id=rid(), image_id=image_id)
    except ApiException as e:
        check(e.status == 404, f"get after delete: HTTP {e.status}, not 404")
    else:
        raise AssertionError("the deleted image is still there")
    ids = [i.image_id for i in all_pages(images, standard_image=False)]
    check(image_id not in ids, "the deleted image is still listed")


def unknown_image(images):
    try:
        images.retrieve_image(x_request_id=rid(), image_id="00000000-0000-0000-0000-000000000000")
    except ApiException as e:
        check(e.status == 404, f"an unknown image: HTTP {e.status}, not 404")
    else:
        raise AssertionError("an unknown image was found")


def main():
    api_url, token_url = sys.argv[1], sys.argv[2]
    run = Run("contabo")
    access = run.step("OAuth2 password grant", token, token_url)
    run.step("OAuth2 wrong password is refused", wrong_password, token_url)
    # Without a token (the grant failed) every call below fails with a 401.
    config = Configuration(host=api_url, access_token=access or "no-token")
    client = ApiClient(config)
    images, audit_api = ImagesApi(client), ImagesAuditsApi(client)

    run.step("list all pages", all_pages, images)
    run.step("_links of a list", links, images)
    custom_count = run.step("list filters (standardImage, name, orderBy)", list_filters, images)
    run.step("get an unknown image is 404", unknown_image, images)
    name = f"peers-{uuid.uuid4().hex[:8]}"
    image_id = run.step("create a custom image from a URL", create, images, name)
    run.step("wait until downloaded", lambda: wait_downloaded(images, need(image_id, "the created image")))
    run.step("the created image is listed", lambda: listed(images, need(image_id, "the created image"), name))
    renamed = name + "-renamed"
    run.step("rename", lambda: rename(images, need(image_id, "the created image"), renamed))
    run.step("stats", lambda: stats(images, need(custom_count, "the custom images count") + 1))
    run.step("audits (imageId, requestId)", lambda: audits(images, audit_api, need(image_id, "the created image"), renamed))
    run.step("delete, then 404 and not listed", lambda: delete(images, need(image_id, "the created image")))
    return run.finish()


if __name__ == "__main__":
    sys.exit(main())
