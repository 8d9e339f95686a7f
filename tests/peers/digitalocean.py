"""Drives a DigitalOcean API (the fake, or anything that answers like it) with
DigitalOcean's Python client, pydo, through every images operation it has,
and checks what the real API promises.

    python digitalocean.py API_URL

The token is DIGITALOCEAN_TOKEN (the fake's by default).
"""

import os
import sys
import urllib.parse
import uuid

import pydo
from azure.core.exceptions import HttpResponseError

from common import Run, check, need, until

PER_PAGE = 20
# pydo (azure-core) refuses to send a bearer token over plain HTTP; this
# per-call option of azure-core's BearerTokenCredentialPolicy allows it, for
# a loopback fake only.
PLAIN_HTTP = {"enforce_https": False}


def call(operation, *args, expect, **kwargs):
    """Calls a pydo operation; its body, once the HTTP status is the one
    expected. (pydo returns the error body of a status the spec declares,
    such as a 404, instead of raising: the status tells them apart.)"""
    status, body = operation(
        *args, cls=lambda response, body, _headers: (response.http_response.status_code, body), **kwargs, **PLAIN_HTTP
    )
    check(status == expect, f"{operation.__name__}: HTTP {status}, not {expect}: {body}")
    return body


def all_pages(client, **filters):
    """Every image over all pages (page=1, 2, ... until links.pages has no
    next), each page checked."""
    seen = []
    for page in range(1, 1000):
        answer = call(client.images.list, **filters, per_page=PER_PAGE, page=page, expect=200)
        seen += answer["images"]
        if "next" not in answer.get("links", {}).get("pages", {}):
            total = answer["meta"]["total"]
            check(len(seen) == total, f"{len(seen)} images over all pages, meta.total {total}")
            ids = [i["id"] for i in seen]
            check(len(set(ids)) == len(ids), "an image came twice over the pages")
            return seen
        check(len(answer["images"]) == PER_PAGE, f"page {page} (not the last) has {len(answer['images'])} images")
    raise AssertionError("more than 1000 pages")


def links(client, **filters):
    """links.pages on the first and the second page: the next, previous,
    first and last pages, each with the query of the list (filters
    included), on the same API."""
    for page in (1, 2):
        answer = call(client.images.list, **filters, per_page=PER_PAGE, page=page, expect=200)
        pages = answer.get("links", {}).get("pages", {})
        wanted = {"next": page + 1, "last": None} if page == 1 else {"first": 1, "prev": 1, "next": 3, "last": None}
        for name, number in wanted.items():
            check(name in pages, f"page {page}: links.pages has no {name}: {pages}")
            query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(pages[name]).query))
            if number is not None:
                check(query.get("page") == str(number), f"page {page}: links.pages.{name} is {pages[name]}")
            check(query.get("per_page") == str(PER_PAGE), f"page {page}: links.pages.{name} drops per_page: {pages[name]}")
            for key, value in filters.items():
                text = str(value).lower() if isinstance(value, bool) else str(value)
                check(query.get(key) == text, f"page {page}: links.pages.{name} drops the filter {key}={value}: {pages[name]}")


def private_filter(client):
    private = all_pages(client, private=True)
    check(private, "no private image seeded")
    public = [i["id"] for i in private if i["public"]]
    check(not public, f"private=true listed public images: {public[:5]}")
    return private


def type_filter(client):
    distributions = all_pages(client, type="distribution")
    check(distributions, "no distribution image seeded")
    check(all(i["public"] and i["type"] == "base" for i in distributions),
          f"type=distribution listed {sorted({(i['type'], i['public']) for i in distributions})}")
    applications = all_pages(client, type="application")
    check(not {i["id"] for i in applications} & {i["id"] for i in distributions},
          "an image is both an application and a distribution")
    return distributions[0]["slug"]


def tag_filter(client):
    tagged = [i for i in all_pages(client) if i.get("tags")]
    check(tagged, "no tagged image seeded")
    tag = tagged[0]["tags"][0]
    by_tag = all_pages(client, tag_name=tag)
    check(by_tag and all(tag in i["tags"] for i in by_tag), f"tag_name={tag} listed images without the tag")
    check({i["id"] for i in by_tag} == {i["id"] for i in tagged if tag in i["tags"]},
          f"tag_name={tag} did not list every image with the tag")


def by_slug(client, slug):
    image = call(client.images.get, slug, expect=200)["image"]
    check(image["slug"] == slug, f"asked for {slug}, got {image['slug']}")


def create(client, name):
    answer = call(
        client.images.create_custom,
        {
            "name": name,
            "url": "https://example.com/images/peers-check.qcow2",
            "region": "nyc3",
            "distribution": "Debian",
            "description": "made by the peers check",
            "tags": ["peers-check"],
        },
        expect=202,
    )
    image = answer["image"]
    check(image["name"] == name, f"created as {image['name']!r}")
    check(image["status"] == "NEW", f"a new custom image is {image['status']!r}, not NEW")
    return image["id"]


def get(client, image_id):
    image = call(client.images.get, image_id, expect=200)["image"]
    check(image["id"] == image_id, f"asked for {image_id}, got {image['id']}")
    return image


def wait_available(client, image_id):
    image = until(f"image {image_id} available", lambda: get(client, image_id),
                  lambda i: i["status"] in ("available", "deleted"))
    check(image["status"] == "available", f"image ended {image['status']}: {image.get('error_message')}")
    check(image["regions"], "an available image is in no region")


def listed(client, image_id, name):
    found = [i for i in all_pages(client, private=True) if i["id"] == image_id]
    check(len(found) == 1, f"the created image is listed {len(found)} times")
    check(found[0]["name"] == name, f"listed as {found[0]['name']!r}")
    by_tag = [i["id"] for i in all_pages(client, tag_name="peers-check")]
    check(image_id in by_tag, "tag_name=peers-check does not list the created image")


def rename(client, image_id, name):
    answer = call(client.images.update, image_id, {"name": name, "description": "renamed", "distribution": "Ubuntu"}, expect=200)
    check(answer["image"]["name"] == name, f"update answered {answer['image']['name']!r}")
    image = get(client, image_id)
    check(image["name"] == name, f"after the rename the image is {image['name']!r}")
    check(image["distribution"] == "Ubuntu", f"distribution is {image['distribution']!r}")


def action(client, image_id, body):
    posted = call(client.image_actions.post, image_id, body, expect=201)["action"]
    check(posted["type"] == body["type"], f"posted {body['type']}, got {posted['type']}")
    check(posted["resource_id"] == image_id, f"action on {posted['resource_id']}, not {image_id}")
    done = until(f"{body['type']} action {posted['id']} completed",
                 lambda: call(client.image_actions.get, image_id, posted["id"], expect=200)["action"],
                 lambda a: a["status"] in ("completed", "errored"))
    check(done["status"] == "completed", f"the {body['type']} action ended {done['status']}")
    return posted["id"]


def transfer(client, image_id):
    action_id = action(client, image_id, {"type": "transfer", "region": "ams3"})
    image = get(client, image_id)
    check("ams3" in image["regions"], f"after the transfer the image is in {image['regions']}")
    return action_id


def actions_listed(client, image_id, action_ids):
    answer = call(client.image_actions.list, image_id, expect=200)
    listed_ids = [a["id"] for a in answer["actions"]]
    for action_id in action_ids:
        check(action_id in listed_ids, f"action {action_id} is not listed: {listed_ids}")
    check(answer["meta"]["total"] == len(answer["actions"]), "meta.total is not the number of actions")


def account_transfer(client, image_id):
    created = call(client.images.post_account_transfer_create, image_id, {"recipient_email": "alice@example.com"}, expect=201)
    transfer_id = created["transfer_id"]
    check(isinstance(transfer_id, int) and transfer_id > 0, f"transfer_id {transfer_id!r} (a pending transfer has one)")
    call(client.images.post_account_transfer_cancel, image_id, {"transfer_id": transfer_id}, expect=204)
    check(get(client, image_id)["id"] == image_id, "the image left the account after a cancelled transfer")


def delete(client, image_id):
    call(client.images.delete, image_id, expect=204)
    gone = call(client.images.get, image_id, expect=404)
    check(gone.get("id") == "not_found", f"a deleted image's 404 says {gone}")
    check(image_id not in [i["id"] for i in all_pages(client, private=True)], "the deleted image is still listed")


def refused_token(api_url):
    client = pydo.Client("not-the-token", endpoint=api_url)
    try:
        client.images.list(**PLAIN_HTTP)
    except HttpResponseError as e:
        check(e.status_code == 401, f"a wrong token: HTTP {e.status_code}, not 401")
    else:
        raise AssertionError("a wrong token was accepted")


def main():
    api_url = sys.argv[1]
    client = pydo.Client(os.environ.get("DIGITALOCEAN_TOKEN", "do-demo-token"), endpoint=api_url)
    run = Run("digitalocean")
    run.step("a wrong token is refused", refused_token, api_url)
    run.step("list all pages", all_pages, client)
    run.step("links.pages of a list", links, client)
    run.step("links.pages of a filtered list keep the filter", links, client, private=True)
    run.step("list private=true over all pages", private_filter, client)
    slug = run.step("list type=distribution/application over all pages", type_filter, client)
    run.step("list tag_name over all pages", tag_filter, client)
    run.step("get a distribution by its slug", lambda: by_slug(client, need(slug, "a distribution's slug")))
    name = f"peers-{uuid.uuid4().hex[:8]}"
    image_id = run.step("create a custom image from a URL", create, client, name)
    the = lambda: need(image_id, "the created image")  # noqa: E731
    run.step("wait until available", lambda: wait_available(client, the()))
    run.step("the created image is listed (private, tag_name)", lambda: listed(client, the(), name))
    run.step("rename", lambda: rename(client, the(), name + "-renamed"))
    transfer_id = run.step("transfer action, wait until completed", lambda: transfer(client, the()))
    convert_id = run.step("convert action, wait until completed", lambda: action(client, the(), {"type": "convert"}))
    run.step("list the image's actions", lambda: actions_listed(
        client, the(), [need(transfer_id, "the transfer"), need(convert_id, "the convert")]))
    run.step("account transfer: create, cancel", lambda: account_transfer(client, the()))
    run.step("delete, then 404 and not listed", lambda: delete(client, the()))
    return run.finish()


if __name__ == "__main__":
    sys.exit(main())
